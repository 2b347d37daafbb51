"""Self-hosted GraphiQL: the page that loads the local build, with the operations as tabs."""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import HTMLResponse

from app.web.headers import GRAPHIQL_CSP, page_headers
from app.web.paths import BUILD_DIR, OPERATIONS_DIR

log = logging.getLogger("confid.web")

BUILD_URL = "/static/build/"
# Tabs carry no Authorization header: the bar above GraphiQL takes the token once for every
# tab (web/graphiql/token.js); a header typed into one tab's Headers pane still wins there.
DEFAULT_HEADERS = ""
# The tabs a newcomer needs first; the other operations follow in name order.
TAB_ORDER = (
    "Viewer",
    "ListUsers",
    "GetUser",
    "CheckConferenceId",
    "SetConferenceId",
    "ResetConferenceId",
    "SendConferenceInfo",
    "EnableAudioConferencing",
    "ListAuditEvents",
    "ListNotifications",
    "VerifyAuditTrail",
    "LookupConferenceId",
)
_VARIABLES_PREFIX = "# variables:"
_reported: set[Path] = set()


@dataclass(frozen=True, slots=True)
class GraphiQLBuild:
    """The built GraphiQL files named by the build's manifest.json."""

    version: str
    script: str
    stylesheet: str


@dataclass(frozen=True, slots=True)
class OperationTab:
    """One example operation: its text and the example variables from its header comment."""

    name: str
    query: str
    variables: str | None


def load_build(build_dir: Path = BUILD_DIR) -> GraphiQLBuild | None:
    """The build in `build_dir`, or None when it is absent or incomplete."""
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    version, script, stylesheet = (manifest.get(k) for k in ("version", "script", "stylesheet"))
    if not (isinstance(version, str) and isinstance(script, str) and isinstance(stylesheet, str)):
        return None
    if not (version and (build_dir / script).is_file() and (build_dir / stylesheet).is_file()):
        return None
    return GraphiQLBuild(version=version, script=script, stylesheet=stylesheet)


def _example_variables(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(_VARIABLES_PREFIX):
            try:
                value = json.loads(line[len(_VARIABLES_PREFIX) :])
            except ValueError:
                return None
            return json.dumps(value, indent=2) if value else None
    return None


def operation_tabs(operations_dir: Path = OPERATIONS_DIR) -> list[OperationTab]:
    """The example operations in `operations_dir`, most useful first."""
    files = {path.stem: path for path in operations_dir.glob("*.graphql") if path.is_file()}
    order = [name for name in TAB_ORDER if name in files]
    order += sorted(name for name in files if name not in TAB_ORDER)
    tabs = []
    for name in order:
        text = files[name].read_text(encoding="utf-8")
        tabs.append(OperationTab(name=name, query=text, variables=_example_variables(text)))
    return tabs


def _json_for_html(value: object) -> str:
    """JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_html(
    endpoint: str = "/graphql",
    *,
    build_dir: Path = BUILD_DIR,
    operations_dir: Path = OPERATIONS_DIR,
) -> str | None:
    """The self-hosted GraphiQL page, or None when the assets have not been built."""
    build = load_build(build_dir)
    if build is None:
        return None
    config = {
        "endpoint": endpoint,
        "headers": DEFAULT_HEADERS,
        "tabs": [
            {"name": tab.name, "query": tab.query, "variables": tab.variables}
            for tab in operation_tabs(operations_dir)
        ],
    }
    version = html.escape(build.version, quote=True)
    script = html.escape(BUILD_URL + build.script, quote=True)
    stylesheet = html.escape(BUILD_URL + build.stylesheet, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>GraphiQL · confid</title>
  <link rel="icon" href="/static/admin/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{stylesheet}?v={version}">
</head>
<body>
  <div id="graphiql" class="confid-graphiql" role="main">Loading GraphiQL…</div>
  <noscript>GraphiQL needs JavaScript. The API itself is at POST {html.escape(endpoint)}.</noscript>
  <script type="application/json" id="confid-graphiql-config">{_json_for_html(config)}</script>
  <script type="module" src="{script}?v={version}"></script>
</body>
</html>
"""


def graphiql_response(
    endpoint: str = "/graphql",
    *,
    build_dir: Path = BUILD_DIR,
    operations_dir: Path = OPERATIONS_DIR,
    csp: str = GRAPHIQL_CSP,
) -> HTMLResponse | None:
    """The self-hosted page with its CSP, or None (logged once) so the caller uses the CDN."""
    page = graphiql_html(endpoint, build_dir=build_dir, operations_dir=operations_dir)
    if page is None:
        report_build(build_dir)
        return None
    return HTMLResponse(page, headers=page_headers(csp))


def report_build(build_dir: Path = BUILD_DIR) -> bool:
    """Log once per build folder whether GraphiQL is self-hosted; True when it is."""
    built = load_build(build_dir) is not None
    if build_dir not in _reported:
        _reported.add(build_dir)
        if built:
            log.info("GraphiQL is self-hosted from %s", build_dir)
        else:
            log.warning(
                "GraphiQL assets are not built (no %s; scripts/run and scripts/test build them "
                "when Node.js 18+ is installed): /graphql serves GraphiQL from a public CDN, "
                "which needs internet access",
                build_dir / "manifest.json",
            )
    return built

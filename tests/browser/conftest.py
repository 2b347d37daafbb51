"""Browser fixtures: a real confid on loopback (uvicorn subprocess) and headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.web.paths import BUILD_DIR
from tests.conftest import ROOT, TOKENS
from tests.server import running_confid

# Debian's chromium (Playwright's own browser download cannot work here); CHROMIUM overrides.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
SERVER_LOG = ROOT / "test-output" / "browser-server.log"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where .ci/run installs what is missing."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    """A confid process serving the embedded demo on a loopback port."""

    url: str

    def gql(self, query: str, variables: dict[str, Any] | None = None, role: str = "admin") -> Any:
        """Ask the API directly (to check what the pages claim)."""
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {TOKENS[role]}",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    with running_confid(folder, SERVER_LOG, CONFID_SEED_DEMO="1", CONFID_DEMO_USERS="24") as url:
        yield Server(url=url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: while Playwright's sync API runs, an asyncio loop counts as
    # running in this thread, which would break every async test collected after this module.
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    executable = str(CHROMIUM) if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if executable is None:
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Visit:
    """One browser context on confid, recording every request and console complaint."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def shot(self, name: str, *, docs: str | None = None, full_page: bool = False) -> Path:
        """Save a screenshot under test-output/screenshots.

        With `docs` and DOCS_SCREENSHOTS=1 set, also as docs/screenshots/<docs>.png,
        the pictures the README shows.
        """
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        if docs and os.environ.get("DOCS_SCREENSHOTS"):
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{docs}.png")
        return path

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but confid's origin (inline data: URLs fetch nothing)."""
        prefix = self.origin + "/"
        return [
            url
            for url in self.requests
            if not (url + "/").startswith(prefix) and not url.startswith("data:")
        ]


def open_visit(browser: Any, server: Server, **context_options: Any) -> Iterator[Visit]:
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 960}, **context_options}
    context = browser.new_context(**options)
    # Nothing may leave the origin: record every request, and refuse any that would.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.url) else route.abort()
        ),
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    visit = Visit(page=page, origin=server.url)
    context.on("request", lambda request: visit.requests.append(request.url))
    page.on("pageerror", lambda error: visit.problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            visit.problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "401" not in message.text
            else None
        ),
    )
    try:
        yield visit
    finally:
        context.close()


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    yield from open_visit(browser, server)


@pytest.fixture
def graphiql_build() -> None:
    if not (BUILD_DIR / "manifest.json").is_file():
        unavailable(
            f"GraphiQL is not built ({BUILD_DIR}): scripts/test builds it when Node.js is present"
        )


def expect(target: Any) -> Any:
    """Playwright's `expect`, imported late so a missing Playwright fails in `browser`."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)

"""The self-hosted GraphiQL page (app.web.graphiql): built from the manifest, operations as
tabs, its response's policy, fallback."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from app.web import graphiql
from app.web.graphiql import graphiql_html, graphiql_response, load_build, operation_tabs
from tests.support.api import OPERATIONS
from tests.support.web import fake_build


def config_of(page: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="confid-graphiql-config">(.*?)</script>', page, re.S
    )
    assert match, page
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_every_operation_is_a_tab_with_its_example_variables(tmp_path: Path) -> None:
    page = graphiql_html(build_dir=fake_build(tmp_path))
    assert page is not None
    tabs = config_of(page)["tabs"]
    assert isinstance(tabs, list)
    names = [tab["name"] for tab in tabs]
    assert sorted(names) == sorted(p.stem for p in OPERATIONS.glob("*.graphql"))
    assert names[:2] == ["Viewer", "ListUsers"]  # the first query needs no variables
    by_name = {tab["name"]: tab for tab in tabs}
    assert by_name["ListUsers"]["query"] == (OPERATIONS / "ListUsers.graphql").read_text()
    assert json.loads(by_name["ListUsers"]["variables"]) == {
        "first": 20,
        "after": None,
        "search": "adele",
    }
    assert by_name["Viewer"]["variables"] is None  # `{}` is no example


def test_tabs_carry_no_token_header_and_assets_are_versioned(tmp_path: Path) -> None:
    """The token comes from the bar above GraphiQL, once for every tab (token.js)."""
    page = graphiql_html("/graphql", build_dir=fake_build(tmp_path, version="v42"))
    assert page is not None
    config = config_of(page)
    assert config["headers"] == ""
    assert all(set(tab) == {"name", "query", "variables"} for tab in config["tabs"])
    assert "Bearer confid" not in page and '"Authorization": "Bearer' not in page
    assert '<script type="module" src="/static/build/graphiql/graphiql.js?v=v42">' in page
    assert 'href="/static/build/graphiql/graphiql.css?v=v42"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing from elsewhere
    assert "<script>" not in page  # no inline script: the CSP forbids it


def test_operation_text_cannot_close_the_json_block(tmp_path: Path) -> None:
    operations = tmp_path / "operations"
    operations.mkdir()
    (operations / "Evil.graphql").write_text("# </script><script>alert(1)</script>\n{ a }\n")
    page = graphiql_html(build_dir=fake_build(tmp_path / "build"), operations_dir=operations)
    assert page is not None
    assert page.count("</script>") == 2  # the JSON block's and the module's own
    tabs = config_of(page)["tabs"]
    assert isinstance(tabs, list) and "</script>" in tabs[0]["query"]


def test_the_response_carries_a_self_only_content_security_policy(tmp_path: Path) -> None:
    response = graphiql_response(build_dir=fake_build(tmp_path))
    assert response is not None
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    for directive in ("default-src", "script-src", "connect-src", "worker-src"):
        assert csp[directive] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert all("http" not in value and "*" not in value for value in csp.values())
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "manifest",
    [None, "not json", "[]", '{"version": "1", "script": "graphiql/missing.js"}'],
)
def test_without_a_complete_build_there_is_no_page(tmp_path: Path, manifest: str | None) -> None:
    if manifest is not None:
        (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    assert load_build(tmp_path) is None
    assert graphiql_html(build_dir=tmp_path) is None


def test_the_cdn_fallback_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphiql, "_reported", set())
    caplog.set_level(logging.INFO, logger="confid.web")
    assert graphiql_response(build_dir=tmp_path) is None
    assert graphiql_response(build_dir=tmp_path) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "public CDN" in warnings[0].getMessage()


def test_operation_tabs_skip_unparseable_variables(tmp_path: Path) -> None:
    (tmp_path / "A.graphql").write_text("# variables: {not json\nquery A { a }\n")
    (tmp_path / "B.graphql").write_text("query B { b }\n")
    tabs = operation_tabs(tmp_path)
    assert [(t.name, t.variables) for t in tabs] == [("A", None), ("B", None)]

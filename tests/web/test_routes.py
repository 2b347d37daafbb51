"""The web routes: the admin page at `/` with its CSP, its files, and the build folder."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2 as httpx
from starlette.applications import Starlette

from app.settings import Settings
from app.web.graphiql import load_build
from app.web.paths import ADMIN_DIR
from app.web.routes import web_routes
from tests.support.api import Api, make_api
from tests.support.web import fake_build


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://confid.test")


async def test_the_admin_page_is_served_at_the_root_with_a_strict_policy(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "form-action 'none'" in csp  # no form can ever put the token in a URL
    assert '<script type="module" src="/static/admin/app.js">' in response.text


async def test_with_a_browser_sign_in_the_pages_may_reach_the_issuer_and_nothing_else(
    settings: Settings, raw_database: Any
) -> None:
    configured = replace(
        settings,
        oidc_issuer="https://login.example.test/tenant/v2.0",
        oidc_audiences=("confid",),
        oidc_client_id="confid-admin",
    )
    api = await make_api(configured, raw_database)
    try:
        admin = await api.client.get("/")
        graphiql = await api.client.get("/graphql", headers={"Accept": "text/html"})
    finally:
        await api.client.aclose()
    expected = "connect-src 'self' https://login.example.test"
    assert expected in admin.headers["content-security-policy"]
    if load_build() is not None:
        assert expected in graphiql.headers["content-security-policy"]
    # Without a client id there is no browser sign-in: the pages reach confid only.
    plain = await make_api(replace(configured, oidc_client_id=None), raw_database)
    try:
        page = await plain.client.get("/")
    finally:
        await plain.client.aclose()
    assert "connect-src 'self';" in page.headers["content-security-policy"]


async def test_every_admin_file_is_served_with_its_type(api: Api) -> None:
    for path in sorted(ADMIN_DIR.iterdir()):
        response = await api.client.get(f"/static/admin/{path.name}")
        assert response.status_code == 200, path.name
    script = await api.client.get("/static/admin/app.js")
    assert "javascript" in script.headers["content-type"]


async def test_graphiql_is_self_hosted_when_built(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    if load_build() is not None:
        assert "confid-graphiql-config" in response.text
        assert "script-src 'self'" in response.headers["content-security-policy"]
    else:  # not built here (no Node.js): Strawberry's CDN page
        assert "unpkg.com" in response.text


def test_admin_sources_fetch_nothing_from_elsewhere() -> None:
    """Plain modules, no CDN: every URL in the admin sources is relative to confid."""
    for path in ADMIN_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", text) + re.findall(
            r"""from\s+["']([^"']+)""", text
        )
        for url in urls:
            assert url.startswith(("/", "./", "#", "tel:")), f"{path.name}: {url}"
        assert "http://" not in text.replace('"http://www.w3.org/2000/svg"', "")
        assert "https://" not in text


def test_admin_modules_import_only_files_that_exist() -> None:
    for path in ADMIN_DIR.glob("*.js"):
        for name in re.findall(r"""from\s+["']\./([^"']+)""", path.read_text(encoding="utf-8")):
            assert (ADMIN_DIR / name).is_file(), f"{path.name} imports missing {name}"


async def test_a_missing_build_folder_is_a_404_not_a_500(tmp_path: Path) -> None:
    app = Starlette(routes=web_routes(admin_dir=ADMIN_DIR, build_dir=tmp_path / "absent"))
    async with client(app) as http:
        response = await http.get("/static/build/graphiql/graphiql.js")
    assert response.status_code == 404


async def test_build_files_are_served_from_the_build_folder(tmp_path: Path) -> None:
    app = Starlette(routes=web_routes(admin_dir=ADMIN_DIR, build_dir=fake_build(tmp_path)))
    async with client(app) as http:
        response = await http.get("/static/build/graphiql/graphiql.js")
    assert response.status_code == 200 and response.text == "// js"


async def test_without_the_admin_sources_the_root_goes_to_graphiql(tmp_path: Path) -> None:
    app = Starlette(routes=web_routes(admin_dir=tmp_path, build_dir=tmp_path))
    async with client(app) as http:
        response = await http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"

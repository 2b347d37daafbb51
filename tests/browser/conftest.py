"""Browser fixtures: a real confid on loopback (uvicorn subprocess) and headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.web.paths import BUILD_DIR
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SERVER_LOG,
    Server,
    Visit,
    open_visit,
    unavailable,
)
from tests.support.idp import AUDIENCE, CLIENT_ID, SCOPE, Provider, free_port
from tests.support.served import running_confid


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
    # The machine's Chromium, else the one `playwright install chromium` downloaded (scripts/test
    # tries that when the machine has none).
    executable = str(CHROMIUM) if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    with sync_playwright() as playwright:
        if executable is None and not Path(playwright.chromium.executable_path).is_file():
            unavailable(
                f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium, "
                "or python -m playwright install --with-deps chromium)"
            )
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:
            unavailable(f"Chromium did not start: {str(error).splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    yield from open_visit(browser, server)


@pytest.fixture
def graphiql_build() -> None:
    if not (BUILD_DIR / "manifest.json").is_file():
        unavailable(
            f"GraphiQL is not built ({BUILD_DIR}): scripts/test builds it when Node.js is present"
        )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, str]]:
    folder = tmp_path_factory.mktemp("oidc-browser")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    idp = Provider(folder, redirect_uris=[f"{url}/"])
    idp.start()
    try:
        with running_confid(
            folder,
            port=port,
            CONFID_DEMO_USERS="6",
            CONFID_OIDC_ISSUER=idp.issuer,
            CONFID_OIDC_AUDIENCE=AUDIENCE,
            CONFID_OIDC_CLIENT_ID=CLIENT_ID,
            CONFID_OIDC_SCOPES=SCOPE,
        ) as confid:
            yield idp, confid
    finally:
        idp.stop()

"""Shared fixtures: a throw-away database (embedded, or MONGODB_URL), tokens, an API client,
and the OpenID provider. The helpers they are built from live in tests/support/."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.support.api import VAST, Api, make_api, write_tokens
from tests.support.database import WrappedDatabase
from tests.support.idp import Provider, running_provider
from tests.support.oidc import Clock, oidc_settings, serving


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return write_tokens(tmp_path / "tokens.toml")


@pytest.fixture
async def raw_database() -> AsyncIterator[Any]:
    """A fresh empty database: on MONGODB_URL when set, else embedded."""
    url = os.environ.get("MONGODB_URL")
    if url:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(url, tz_aware=True)
        name = f"confid_test_{secrets.token_hex(6)}"
        try:
            yield client[name]
        finally:
            await client.drop_database(name)
            await client.close()
    else:
        from mongomock_motor import AsyncMongoMockClient

        yield AsyncMongoMockClient()[f"confid_test_{secrets.token_hex(6)}"]


@pytest.fixture
def settings(tokens_file: Path) -> Settings:
    return Settings(
        tokens_file=tokens_file,
        seed_demo=True,
        demo_users=12,
        recovery_grace_seconds=60,
        lock_wait_seconds=10,
        rate_limit_admin=VAST,
        rate_limit_helpdesk=VAST,
        rate_limit_auditor=VAST,
    )


@pytest.fixture
async def api(settings: Settings, raw_database: Any) -> AsyncIterator[Api]:
    api = await make_api(settings, raw_database)
    try:
        yield api
    finally:
        await api.client.aclose()


@pytest.fixture
async def racing_api(settings: Settings, raw_database: Any) -> AsyncIterator[Api]:
    """Like `api`, but every database call yields, so concurrent requests interleave."""
    api = await make_api(settings, WrappedDatabase(raw_database, interleave=True))
    try:
        yield api
    finally:
        await api.client.aclose()


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """A real OpenID provider on loopback (tests/support/idp), one per test module."""
    with running_provider(tmp_path_factory.mktemp("idp")) as provider:
        yield provider


@pytest.fixture(scope="module")
def tokens(idp: Provider) -> dict[str, str]:
    """One access token per account, signed in once for the module."""
    logins = ["alice", "hugo", "audrey", "erin", "stranger", "nobody", "grace", "kim"]
    return {login: idp.access_token(login) for login in logins}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def oidc_api(
    settings: Settings, raw_database: Any, idp: Provider, clock: Clock
) -> AsyncIterator[Api]:
    """`api`, also accepting the provider's tokens, its token checks reading `clock`."""
    async with serving(oidc_settings(settings, idp), raw_database, clock) as api:
        yield api


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CONFID_"):
            monkeypatch.delenv(name)
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a `browser` test (`-m "not browser"` skips them)."""
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)

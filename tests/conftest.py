"""Shared fixtures: a throw-away database (embedded, or MONGODB_URL), tokens, an API client."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.applications import Starlette

from app.main import create_app
from app.services.container import Services
from app.services.tokens import hash_token
from app.settings import RateLimit, Settings
from tests.yielding import YieldingDatabase

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "graphql" / "operations"

TOKENS = {
    "admin": "test-admin-token",
    "helpdesk": "test-helpdesk-token",
    "auditor": "test-auditor-token",
}


def operation(name: str) -> str:
    """The text of graphql/operations/<name>.graphql, as users paste it."""
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.toml"
    path.write_text(
        "".join(
            f'[[tokens]]\nname = "{role}-1"\nrole = "{role}"\nsha256 = "{hash_token(token)}"\n\n'
            for role, token in TOKENS.items()
        ),
        encoding="utf-8",
    )
    return path


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


# Tests drive confid at machine speed, far past any person's pace: their buckets are vast
# (still metered, so every response carries its cost). tests/api/test_rate_limits.py
# checks the real defaults.
VAST = RateLimit(1_000_000, 1_000_000)


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


@dataclass
class Api:
    """A client of one confid app, in process."""

    app: Starlette
    client: httpx.AsyncClient
    services: Services
    user_ids: list[str] = field(default_factory=list)

    async def post(
        self, body: Any, token: str | None = "admin", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = {"User-Agent": "confid-tests/1"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        all_headers.update(headers or {})
        return await self.client.post("/graphql", json=body, headers=all_headers)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = "admin"
    ) -> dict[str, Any]:
        response = await self.post({"query": query, "variables": variables or {}}, token)
        result: dict[str, Any] = response.json()
        return result

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = "admin"
    ) -> dict[str, Any]:
        """The data of a query that must succeed without errors."""
        result = await self.gql(query, variables, token)
        assert "errors" not in result, result
        data: dict[str, Any] = result["data"]
        return data

    async def users(self, first: int = 100) -> list[dict[str, Any]]:
        data = await self.data(operation("ListUsers"), {"first": first})
        return [e["node"] for e in data["users"]["edges"]]

    async def enabled_user(self, index: int = 0) -> dict[str, Any]:
        return [u for u in await self.users() if u["audioConferencing"]][index]

    async def disabled_user(self) -> dict[str, Any]:
        return next(u for u in await self.users() if u["audioConferencing"] is None)


async def make_api(settings: Settings, database: Any, **kwargs: Any) -> Api:
    app = create_app(settings, database=database, **kwargs)
    services: Services = app.state.services
    await services.start()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4242))
    client = httpx.AsyncClient(transport=transport, base_url="http://confid.test")
    return Api(app=app, client=client, services=services)


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
    api = await make_api(settings, YieldingDatabase(raw_database))
    try:
        yield api
    finally:
        await api.client.aclose()


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

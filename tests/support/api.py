"""An in-process confid and a client of it; the operation files; the test tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from starlette.applications import Starlette

from app.main import create_app
from app.services.container import Services
from app.services.tokens import hash_token
from app.settings import RateLimit, Settings

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "graphql" / "operations"

TOKENS = {
    "admin": "test-admin-token",
    "helpdesk": "test-helpdesk-token",
    "auditor": "test-auditor-token",
}

# Tests drive confid at machine speed, far past any person's pace: their buckets are vast
# (still metered, so every response carries its cost). tests/api/test_throttle.py
# checks the real defaults.
VAST = RateLimit(1_000_000, 1_000_000)


#: The names of the operation files (graphql/operations/<name>.graphql).
OPERATION_NAMES = sorted(p.stem for p in OPERATIONS.glob("*.graphql"))


def operation(name: str) -> str:
    """The text of graphql/operations/<name>.graphql, as users paste it."""
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


def is_subscription(name: str) -> bool:
    """True for an operation file that holds a subscription."""
    return any(line.startswith("subscription ") for line in operation(name).splitlines())


def operation_header(name: str, key: str) -> str | None:
    """A line of an operation file's header comment (`# <key>: ...`), without its key."""
    prefix = f"# {key}:"
    return next(
        (line.removeprefix(prefix).strip() for line in operation(name).splitlines()
         if line.startswith(prefix)),
        None,
    )  # fmt: skip


def write_tokens(path: Path) -> Path:
    """A tokens file holding the hashes of TOKENS, one token per role."""
    path.write_text(
        "".join(
            f'[[tokens]]\nname = "{role}-1"\nrole = "{role}"\nsha256 = "{hash_token(token)}"\n\n'
            for role, token in TOKENS.items()
        ),
        encoding="utf-8",
    )
    return path


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
    """A started confid app on `database` (its lifespan is not run) and a client of it."""
    app = create_app(settings, database=database, **kwargs)
    services: Services = app.state.services
    await services.start()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4242))
    client = httpx.AsyncClient(transport=transport, base_url="http://confid.test")
    return Api(app=app, client=client, services=services)


def error_code(body: dict[str, Any]) -> str:
    """The `extensions.code` of the one error of a GraphQL answer."""
    (error,) = body["errors"]
    result: str = error["extensions"]["code"]
    return result


def response_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of every error of a GraphQL answer (none: `[]`)."""
    return [e["extensions"]["code"] for e in body.get("errors", [])]


#: The admin token's Authorization header, for requests sent without `Api.post`.
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}

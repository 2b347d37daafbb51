"""The same races against a real uvicorn process on loopback, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support import scenarios
from tests.support.api import TOKENS
from tests.support.served import VAST_RATE_LIMITS, running_confid


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("uvicorn")
    with running_confid(folder, CONFID_DEMO_USERS="30", **VAST_RATE_LIMITS) as base:
        yield base


@pytest.fixture
async def gql(server: str) -> AsyncIterator[scenarios.Gql]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server, limits=limits, timeout=60) as client:

        async def call(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {TOKENS[token]}"},
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        yield call


async def enabled_ids(gql: scenarios.Gql) -> list[str]:
    return [u["id"] for u in await scenarios.all_users(gql) if u["audioConferencing"]]


async def test_fifty_parallel_resets_of_one_user(gql: scenarios.Gql) -> None:
    (user, *_) = await enabled_ids(gql)
    scenarios.check_outcomes(await scenarios.resets(gql, [user], 50), min_success=0.95)
    await scenarios.check_invariants(gql)


async def test_fifty_parallel_resets_over_twenty_users(gql: scenarios.Gql) -> None:
    ids = (await enabled_ids(gql))[:20]
    scenarios.check_outcomes(await scenarios.resets(gql, ids, 50), min_success=0.95)
    await scenarios.check_invariants(gql)


async def test_one_id_set_for_many_users_at_once(gql: scenarios.Gql) -> None:
    ids = (await enabled_ids(gql))[:10]
    results = await scenarios.sets_of_one_id(gql, ids, "5173920")
    assert sum(1 for r in results if not r["userErrors"]) == 1
    scenarios.check_outcomes(results, min_success=0)
    await scenarios.check_invariants(gql)


async def test_resets_racing_sets_on_one_user(gql: scenarios.Gql) -> None:
    ids = await enabled_ids(gql)
    scenarios.check_outcomes(await scenarios.resets_racing_sets(gql, ids[-1], 10), 0.9)
    await scenarios.check_invariants(gql)


async def test_a_loopback_client_cannot_forge_where_a_change_came_from(server: str) -> None:
    """Issue 9, row 5: uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; confid
    tells it (and itself) to trust nobody unless CONFID_TRUSTED_PROXIES says so."""
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        admin = {"Authorization": f"Bearer {TOKENS['admin']}"}
        users = await client.post(
            "/graphql",
            json={"query": "{ users(first: 5) { edges { node { id } } } }"},
            headers=admin,
        )
        user_id = users.json()["data"]["users"]["edges"][0]["node"]["id"]
        forged = {"X-Forwarded-For": "203.0.113.66", "X-Request-Id": "victim-request-0001"}
        response = await client.post(
            "/graphql",
            json={
                "query": "mutation($input: ResetConferenceIdInput!) { resetConferenceId("
                "input: $input) { auditEvent { sourceIp requestId clientRequestId } } }",
                "variables": {"input": {"userId": user_id}},
            },
            headers={**admin, **forged},
        )
    event = response.json()["data"]["resetConferenceId"]["auditEvent"]
    assert event["sourceIp"] == "127.0.0.1"
    assert event["requestId"] == response.headers["X-Request-Id"] != "victim-request-0001"
    assert event["clientRequestId"] == "victim-request-0001"

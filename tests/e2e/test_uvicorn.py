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


def test_behind_a_trusted_proxy_only_addresses_are_believed(tmp_path: Path) -> None:
    """With CONFID_TRUSTED_PROXIES, the forwarded client is recorded, but a hop that is not
    an address (or a header over 2,048 characters) is ignored: the proxy's own address is
    recorded, never the text (uvicorn's own proxy handling, which kept any text, is off)."""
    with running_confid(
        tmp_path, CONFID_DEMO_USERS="3", CONFID_TRUSTED_PROXIES="127.0.0.1", **VAST_RATE_LIMITS
    ) as base:
        admin = {"Authorization": f"Bearer {TOKENS['admin']}"}
        with httpx.Client(base_url=base, timeout=30) as client:
            users = client.post(
                "/graphql",
                json={"query": "{ users(first: 1) { edges { node { id } } } }"},
                headers=admin,
            )
            user_id = users.json()["data"]["users"]["edges"][0]["node"]["id"]

            def source_ip(forwarded: str) -> str:
                response = client.post(
                    "/graphql",
                    json={
                        "query": "mutation($input: ResetConferenceIdInput!) { "
                        "resetConferenceId(input: $input) { auditEvent { sourceIp } } }",
                        "variables": {"input": {"userId": user_id}},
                    },
                    headers={**admin, "X-Forwarded-For": forwarded},
                )
                found: str = response.json()["data"]["resetConferenceId"]["auditEvent"]["sourceIp"]
                return found

            assert source_ip("198.51.100.7") == "198.51.100.7"
            assert source_ip("203.0.113.66, not-an-ip") == "127.0.0.1"
            assert source_ip("unknown") == "127.0.0.1"
            assert source_ip("198.51.100.7, " * 300 + "198.51.100.8") == "127.0.0.1"

"""Fifty-request races in process, through a database that yields around every call: the
whole change path under load (tests/e2e/test_uvicorn.py runs the same over real HTTP)."""

from __future__ import annotations

from typing import Any

from tests.support import scenarios
from tests.support.api import Api


def gql_of(api: Api) -> scenarios.Gql:
    async def gql(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        return await api.gql(query, variables, token)

    return gql


async def test_fifty_resets_of_one_user(racing_api: Api) -> None:
    gql = gql_of(racing_api)
    user = await racing_api.enabled_user()
    scenarios.check_outcomes(await scenarios.resets(gql, [user["id"]], 50), min_success=0.95)
    await scenarios.check_invariants(gql)


async def test_fifty_resets_over_many_users(racing_api: Api) -> None:
    gql = gql_of(racing_api)
    ids = [u["id"] for u in await racing_api.users() if u["audioConferencing"]]
    scenarios.check_outcomes(await scenarios.resets(gql, ids, 50), min_success=0.95)
    await scenarios.check_invariants(gql)


async def test_one_id_wanted_by_many(racing_api: Api) -> None:
    gql = gql_of(racing_api)
    ids = [u["id"] for u in await racing_api.users() if u["audioConferencing"]]
    results = await scenarios.sets_of_one_id(gql, ids, "7315094")
    assert sum(1 for r in results if not r["userErrors"]) == 1
    scenarios.check_outcomes(results, min_success=0)
    await scenarios.check_invariants(gql)


async def test_resets_racing_sets(racing_api: Api) -> None:
    gql = gql_of(racing_api)
    user = await racing_api.enabled_user()
    scenarios.check_outcomes(await scenarios.resets_racing_sets(gql, user["id"], 10), 0.9)
    await scenarios.check_invariants(gql)

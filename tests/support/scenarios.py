"""Concurrent workloads and the invariants after them, through the public API only.

Shared by the in-process tests (a database that yields around every call) and the tests
against a real uvicorn process on loopback.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.api import operation

Gql = Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]

ACCEPTABLE = {"CONFLICT", "IN_USE", "RETIRED", "SAME_AS_CURRENT"}


async def all_users(gql: Gql) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(operation("ListUsers"), {"first": 100, "after": after}, "admin")
        page = body["data"]["users"]
        users += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return users
        after = page["pageInfo"]["endCursor"]


async def all_events(gql: Gql) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(operation("ListAuditEvents"), {"first": 100, "after": after}, "auditor")
        page = body["data"]["auditEvents"]
        events += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert isinstance(result, dict)
    return result


async def resets(gql: Gql, user_ids: list[str], n: int) -> list[dict[str, Any]]:
    """`n` parallel resets spread round-robin over `user_ids`."""
    query = operation("ResetConferenceId")
    bodies = await asyncio.gather(
        *[gql(query, {"input": {"userId": user_ids[i % len(user_ids)]}}, "helpdesk")
          for i in range(n)]
    )  # fmt: skip
    return [payload(b) for b in bodies]


async def sets_of_one_id(gql: Gql, user_ids: list[str], wanted: str) -> list[dict[str, Any]]:
    query = operation("SetConferenceId")
    bodies = await asyncio.gather(
        *[gql(query, {"input": {"userId": u, "conferenceId": wanted}}, "admin") for u in user_ids]
    )
    return [payload(b) for b in bodies]


async def resets_racing_sets(gql: Gql, user_id: str, n: int) -> list[dict[str, Any]]:
    calls = []
    for i in range(n):
        calls.append(gql(operation("ResetConferenceId"), {"input": {"userId": user_id}}, "admin"))
        calls.append(
            gql(
                operation("SetConferenceId"),
                {"input": {"userId": user_id, "conferenceId": f"6{i:02d}4813"}},
                "admin",
            )
        )
    return [payload(b) for b in await asyncio.gather(*calls)]


def check_outcomes(results: list[dict[str, Any]], min_success: float) -> None:
    """Failures carry a clear code; successes have their own audit entry."""
    successes = [r for r in results if not r["userErrors"]]
    assert len(successes) >= min_success * len(results), Counter(
        e["code"] for r in results for e in r["userErrors"]
    )
    for r in results:
        assert {e["code"] for e in r["userErrors"]} <= ACCEPTABLE, r["userErrors"]
        assert r["auditEvent"] is not None
    sequences = [r["auditEvent"]["sequence"] for r in results]
    assert len(set(sequences)) == len(sequences), "two requests share one audit entry"


async def check_invariants(gql: Gql) -> None:
    """No ID held twice, no retired ID active, a gapless chain that verifies."""
    users = await all_users(gql)
    active = [u["audioConferencing"]["conferenceId"] for u in users if u["audioConferencing"]]
    assert len(active) == len(set(active)), "an ID is held by two users"
    events = await all_events(gql)
    sequences = sorted(e["sequence"] for e in events)
    assert sequences == list(range(1, len(events) + 1)), "the trail has gaps or duplicates"
    retired = {
        e["previousConferenceId"]
        for e in events
        if e["outcome"] == "SUCCESS" and e["action"] in ("SET", "RESET")
    }
    assert not retired & set(active), "a retired ID is active again"
    for conference_id in sorted(retired)[:20]:
        body = await gql(operation("LookupConferenceId"), {"conferenceId": conference_id}, "admin")
        assert body["data"]["lookupConferenceId"] is None
    verification = (await gql(operation("VerifyAuditTrail"), {}, "auditor"))["data"]
    assert verification["verifyAuditTrail"]["ok"] is True
    assert verification["verifyAuditTrail"]["checked"] == len(events)

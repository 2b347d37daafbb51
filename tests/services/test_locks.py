"""Races through a database that yields around every call, as a networked driver does."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from tests.support.api import Api, operation
from tests.support.invariants import assert_consistent


async def set_id(api: Api, user_id: str, conference_id: str) -> dict[str, Any]:
    data = await api.data(
        operation("SetConferenceId"), {"input": {"userId": user_id, "conferenceId": conference_id}}
    )
    result: dict[str, Any] = data["setConferenceId"]
    return result


async def test_two_users_never_win_the_same_id(racing_api: Api, raw_database: Any) -> None:
    users = [u for u in await racing_api.users() if u["audioConferencing"]]
    for attempt, wanted in enumerate(["5550147", "6283910", "7419026"]):
        first, second = users[2 * attempt], users[2 * attempt + 1]
        results = await asyncio.gather(
            set_id(racing_api, first["id"], wanted), set_id(racing_api, second["id"], wanted)
        )
        winners = [r for r in results if not r["userErrors"]]
        losers = [r for r in results if r["userErrors"]]
        assert len(winners) == 1 and len(losers) == 1
        assert [e["code"] for e in losers[0]["userErrors"]] in (["IN_USE"], ["CONFLICT"])
        lookup = await racing_api.data(operation("LookupConferenceId"), {"conferenceId": wanted})
        assert lookup["lookupConferenceId"]["id"] == winners[0]["user"]["id"]
    await assert_consistent(raw_database)


async def test_concurrent_resets_of_one_user_apply_one_after_another(
    racing_api: Api, raw_database: Any
) -> None:
    user = await racing_api.enabled_user()
    original = user["audioConferencing"]["conferenceId"]
    query = operation("ResetConferenceId")
    results = await asyncio.gather(
        *[racing_api.data(query, {"input": {"userId": user["id"]}}, "helpdesk") for _ in range(12)]
    )
    payloads = [r["resetConferenceId"] for r in results]
    assert all(p["userErrors"] == [] for p in payloads)
    events = sorted((p["auditEvent"] for p in payloads), key=lambda e: e["sequence"])
    # Each reset started from the ID the previous one produced: one unbroken line of IDs.
    history = await racing_api.data(
        operation("ListAuditEvents"), {"userId": user["id"], "action": "RESET", "first": 50}
    )
    chain = sorted(
        (e["node"] for e in history["auditEvents"]["edges"]), key=lambda e: e["sequence"]
    )
    assert [e["sequence"] for e in chain] == [e["sequence"] for e in events]
    assert chain[0]["previousConferenceId"] == original
    for earlier, later in itertools.pairwise(chain):
        assert later["previousConferenceId"] == earlier["newConferenceId"]
    ids = [e["newConferenceId"] for e in chain]
    assert len(set(ids)) == len(ids) and original not in ids
    await assert_consistent(raw_database)


async def test_resets_racing_sets_on_one_user(racing_api: Api, raw_database: Any) -> None:
    user = await racing_api.enabled_user()
    calls = []
    for n in range(6):
        calls.append(
            racing_api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
        )
        calls.append(set_id(racing_api, user["id"], f"58{n}9143"))
    results = await asyncio.gather(*calls)
    codes = [
        e["code"]
        for r in results
        for e in (r.get("resetConferenceId") or r)["userErrors"]  # type: ignore[union-attr]
    ]
    assert set(codes) <= {"IN_USE", "RETIRED", "SAME_AS_CURRENT"}
    await assert_consistent(raw_database)

"""The claim (app.services.claims): the registry refuses a second claim of an ID, so two
users never win the same one, however their requests interleave."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import Api, operation
from tests.support.changes import set_id
from tests.support.invariants import assert_consistent


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

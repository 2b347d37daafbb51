"""The change path (app.services.change_path): each change is validated against the state
its lock read, so resets racing sets on one user are refused with a clear code and leave
everything consistent."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import Api, operation
from tests.support.changes import set_id
from tests.support.invariants import assert_consistent


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

"""Taking turns on a user (app.services.locks): concurrent resets of one user apply one
after another, through a database that yields around every call as a networked driver
does; a stale lock is repaired before the next change takes it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from typing import Any

import pytest

from app.services.steps import Step
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.faults import META, Fault, ProcessDied, first_enabled
from tests.support.invariants import assert_consistent


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


async def test_a_stale_lock_does_not_block_the_next_change(
    settings: Settings, raw_database: Any
) -> None:
    fault = Fault()
    api = await make_api(replace(settings, recovery_grace_seconds=0), raw_database,
                         fault=fault)  # fmt: skip
    user = await first_enabled(raw_database)
    fault.step = Step.CLAIMED
    with pytest.raises(ProcessDied):
        await api.services.changes.reset(META, user["_id"], None, None)
    await asyncio.sleep(0.01)
    outcome = await api.services.changes.reset(META, user["_id"], None, None)
    assert outcome.problems == []
    await api.client.aclose()
    await assert_consistent(raw_database)

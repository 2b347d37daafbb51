"""Crash recovery: a change interrupted after any step is finished or undone, once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from app.services.steps import Step
from app.settings import Settings
from tests.support.api import make_api
from tests.support.faults import META, Fault, ProcessDied, first_disabled, first_enabled
from tests.support.invariants import assert_consistent
from tests.support.transports import CountingTransport

COMMITTED = {Step.COMMITTED, Step.RETIRED, Step.AUDITED, Step.RECORDED, Step.UNLOCKED,
             Step.DELIVERED}  # fmt: skip


async def start_change(api: Any, action: str, user: dict[str, Any]) -> None:
    changes = api.services.changes
    if action == "reset":
        await changes.reset(META, user["_id"], "crash test", None)
    elif action == "set":
        await changes.set(META, user["_id"], "5081937", "crash test", None)
    elif action == "enable":
        await changes.enable(META, user["_id"], None, None)
    else:
        await changes.send_info(META, user["_id"], "assistant@contoso.example")


# Sending info claims no ID, so it has no CLAIMED step; every other pair is a case.
CASES = [
    (action, step)
    for action in ("reset", "set", "enable", "send_info")
    for step in Step
    if not (action == "send_info" and step is Step.CLAIMED)
]


@pytest.mark.parametrize(("action", "step"), CASES)
@pytest.mark.parametrize("mode", ["dies", "raises"])
async def test_change_interrupted_after_each_step(
    settings: Settings, raw_database: Any, step: Step, mode: str, action: str
) -> None:
    fault = Fault(error=ProcessDied if mode == "dies" else RuntimeError)
    transport = CountingTransport()
    quick = replace(settings, recovery_grace_seconds=0)
    first = await make_api(quick, raw_database, fault=fault, transport=transport)
    before = await (first_disabled if action == "enable" else first_enabled)(raw_database)
    old_id = (before.get("audio") or {}).get("conferenceId")
    sent_before = len(transport.sent)

    fault.step = step
    with pytest.raises((ProcessDied, RuntimeError)):
        await start_change(first, action, before)
    await asyncio.sleep(0.01)  # recovery only touches state older than the grace period

    if mode == "dies":  # a fresh process on the same database recovers at start-up
        second = await make_api(quick, raw_database, transport=transport)
        await second.client.aclose()
    else:  # the same process: its periodic sweep repairs
        await first.services.recovery.sweep()
    await first.client.aclose()

    after = await raw_database.get_collection("users").find_one({"_id": before["_id"]})
    new_id = (after.get("audio") or {}).get("conferenceId")
    successes = (
        await raw_database.get_collection("audit_events")
        .find(
            {"userId": before["_id"], "outcome": "SUCCESS", "action": {"$ne": "ASSIGN"}}
            if action != "enable"
            else {"userId": before["_id"], "outcome": "SUCCESS"}
        )
        .to_list(None)
    )
    emails = len(transport.sent) - sent_before
    if step in COMMITTED:
        assert len(successes) == 1, "exactly one audit entry for the change"
        assert emails == 1, "the email must be sent exactly once"
        if action in ("reset", "set"):
            assert new_id != old_id and successes[0]["newConferenceId"] == new_id
            retired = await raw_database.get_collection("conference_ids").find_one(
                {"conferenceId": old_id}
            )
            assert retired["state"] == "RETIRED"
        if action == "enable":
            assert new_id is not None
    else:
        assert new_id == old_id and successes == [] and emails == 0
    await assert_consistent(raw_database)

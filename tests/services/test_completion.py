"""Finishing and undoing changes (app.services.completion): a commit that landed but raised
is finished, not undone; an undo never takes back a commit; recovery writes the actor the
change's intent named."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from app.domain.access import Principal
from app.domain.models import RequestMeta, Role
from app.services.steps import Step
from app.settings import Settings
from tests.support.api import make_api
from tests.support.database import WrappedDatabase
from tests.support.faults import META, Fault, ProcessDied, first_enabled
from tests.support.invariants import assert_consistent


class CommitLandsThenFails:
    """After the commit of a change has landed, raises as a dropped connection would."""

    def __init__(self) -> None:
        self.armed = False

    def __call__(self, collection: str, method: str, args: Any, kwargs: dict[str, Any]) -> None:
        if collection != "users" or method != "update_one":
            return
        update = args[1] if len(args) > 1 else kwargs["update"]
        if self.armed and "lock.committed" in update.get("$set", {}):
            self.armed = False
            raise AutoReconnect("connection closed after the write")


async def test_a_commit_that_landed_but_raised_is_finished_not_undone(
    settings: Settings, raw_database: Any
) -> None:
    commit_fails = CommitLandsThenFails()
    database = WrappedDatabase(raw_database, after_write=commit_fails)
    api = await make_api(replace(settings, recovery_grace_seconds=0), database)
    user = await raw_database.get_collection("users").find_one({"audio": {"$exists": True}})
    commit_fails.armed = True
    with pytest.raises(AutoReconnect):
        await api.services.changes.reset(META, user["_id"], "flaky network", None)
    await asyncio.sleep(0.01)
    report = await api.services.recovery.sweep()
    assert report.finished == 1 and report.undone == 0
    after = await raw_database.get_collection("users").find_one({"_id": user["_id"]})
    assert after["audio"]["conferenceId"] != user["audio"]["conferenceId"]
    events = (
        await raw_database.get_collection("audit_events")
        .find({"userId": user["_id"], "action": "RESET", "outcome": "SUCCESS"})
        .to_list(None)
    )
    assert len(events) == 1 and events[0]["newConferenceId"] == after["audio"]["conferenceId"]
    await api.client.aclose()
    await assert_consistent(raw_database)


async def test_an_undo_never_takes_back_a_commit(settings: Settings, raw_database: Any) -> None:
    """The sweep decides to undo a change, which then commits before the undo lands: the
    commit wins, whole (the abort is conditional on the lock not having committed)."""
    sweeps: list[asyncio.Task[None]] = []
    gate = asyncio.Event()
    armed = False

    async def hook(step: Any) -> None:
        if not armed:
            return
        if step.value == "locked":  # the sweep looks now, sees "not committed", goes to undo
            sweeps.append(asyncio.create_task(api.services.recovery.repair_user(user["_id"])))
            for _ in range(5):
                await asyncio.sleep(0)
        elif step.value == "committed":
            gate.set()  # ... and its abort lands right after the commit, before `finish`
            for _ in range(5):
                await asyncio.sleep(0)

    api = await make_api(replace(settings, recovery_grace_seconds=0), raw_database, fault=hook)
    changes = api.services.changes
    user = await raw_database.get_collection("users").find_one({"audio": {"$exists": True}})
    original_abort = changes._users.abort

    async def abort_after_gate(user_id: str, operation_id: str) -> bool:
        await gate.wait()
        return await original_abort(user_id, operation_id)

    changes._users.abort = abort_after_gate  # type: ignore[method-assign]
    armed = True
    outcome = await changes.reset(META, user["_id"], None, None)
    await asyncio.gather(*sweeps)
    assert outcome.problems == [] and len(sweeps) == 1
    await api.client.aclose()
    await assert_consistent(raw_database)


async def test_a_change_recovered_after_a_crash_still_names_the_person(
    settings: Settings, raw_database: Any
) -> None:
    """The person rides on the change's intent, so recovery writes the same actor."""
    issuer = "https://login.example/tenant/v2.0"
    person = Principal(
        "alice@example.test", Role.ADMIN, issuer=issuer, subject="alice",
        display_name="Alice Admin",
    )  # fmt: skip
    fault = Fault()
    quick = replace(settings, recovery_grace_seconds=0)
    first = await make_api(quick, raw_database, fault=fault)
    user = await first_enabled(raw_database)
    fault.step = Step.COMMITTED
    with pytest.raises(ProcessDied):
        await first.services.changes.reset(
            RequestMeta(actor=person.actor, request_id="r1"), user["_id"], None, None
        )
    await asyncio.sleep(0.01)  # recovery only touches state older than the grace period
    second = await make_api(quick, raw_database)  # a fresh process recovers at start-up
    await first.client.aclose()
    await second.client.aclose()
    entry = await raw_database.get_collection("audit_events").find_one(
        {"userId": user["_id"], "action": "RESET"}
    )
    assert entry["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }
    await assert_consistent(raw_database)

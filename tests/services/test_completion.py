"""Writes whose outcome the driver cannot report: a commit that landed but raised, and an
undo racing a commit. Neither may leave an ID outside the registry or a change unaudited."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from app.settings import Settings
from tests.support.api import make_api
from tests.support.database import WrappedDatabase
from tests.support.faults import META
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


async def test_a_keyed_retry_finishes_the_first_change_instead_of_running_twice(
    settings: Settings, raw_database: Any
) -> None:
    armed = False

    async def fail_once_after_commit(step: Any) -> None:
        nonlocal armed
        if step.value == "committed" and armed:
            armed = False
            raise RuntimeError("network gone after the commit")

    api = await make_api(
        replace(settings, recovery_grace_seconds=0), raw_database, fault=fail_once_after_commit
    )
    services = api.services
    user = await raw_database.get_collection("users").find_one({"audio": {"$exists": True}})

    async def attempt() -> Any:
        return await services.changes.reset(META, user["_id"], idempotency_key="retry-me")

    armed = True
    with pytest.raises(RuntimeError):
        await attempt()
    await asyncio.sleep(0.01)
    retried = await attempt()
    again = await attempt()
    assert retried.problems == [] and retried.audit_event is not None
    assert again.audit_event is not None
    assert again.audit_event.sequence == retried.audit_event.sequence
    resets = await raw_database.get_collection("audit_events").count_documents(
        {"action": "RESET", "outcome": "SUCCESS"}
    )
    emails = await raw_database.get_collection("notifications").count_documents(
        {"kind": "CONFERENCE_ID_CHANGED"}
    )
    assert (resets, emails) == (1, 1)
    await api.client.aclose()
    await assert_consistent(raw_database)

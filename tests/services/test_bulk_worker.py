"""The bulk reset worker (app.services.bulk_worker): a job interrupted anywhere still resets
every selected user exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from app.domain.bulk import user_operation_id
from app.services.bulk_worker import pause_after
from app.services.steps import Step
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.bulk import Started, assert_exactly_once, start_job
from tests.support.database import Killer, WrappedDatabase
from tests.support.faults import ProcessDied
from tests.support.invariants import assert_consistent
from tests.support.transports import CountingTransport


def quick(settings: Settings, **changes: Any) -> Settings:
    """Recovery at once, leases that lapse at once, no pacing: crash tests run fast."""
    base = {
        "recovery_grace_seconds": 0,
        "bulk_reset_lease_seconds": 0,
        "bulk_reset_rate": 0,
        "bulk_reset_poll_seconds": 0.01,
    }
    return replace(settings, **{**base, **changes})


class StepHook:
    """The change path's fault hook: does nothing until armed, then acts once, at the
    `nth` time the job's changes reach `step`."""

    def __init__(self) -> None:
        self.step: Step | None = None
        self.nth = 0
        self.seen = 0
        self.action: Callable[[], Awaitable[None]] | None = None

    def arm(self, step: Step, nth: int, action: Callable[[], Awaitable[None]]) -> None:
        self.step, self.nth, self.seen, self.action = step, nth, 0, action

    async def __call__(self, step: Step) -> None:
        if step is not self.step or self.action is None:
            return
        self.seen += 1
        if self.seen == self.nth:
            action, self.action = self.action, None
            await action()


def dies(message: str) -> Callable[[], Awaitable[None]]:
    async def action() -> None:
        raise ProcessDied(message)

    return action


def raises(message: str) -> Callable[[], Awaitable[None]]:
    async def action() -> None:
        raise RuntimeError(message)

    return action


async def selection_of(api: Api, count: int) -> dict[str, Any]:
    """Emails of `count` enabled users, and of one user who is not enabled (skipped)."""
    users = await api.users()
    enabled = [u["email"] for u in users if u["audioConferencing"]][:count]
    other = next(u["email"] for u in users if not u["audioConferencing"])
    return {"emails": [*enabled, other]}


async def finish_elsewhere(settings: Settings, database: Any, transport: CountingTransport) -> Api:
    """A fresh process on the same database: its start-up recovers, its worker resumes."""
    await asyncio.sleep(0.01)  # leases and locks must be older than "now" to lapse
    second = await make_api(settings, database, transport=transport)
    assert await second.services.bulk.worker.run_once(), "the job was there to resume"
    return second


@pytest.mark.parametrize("k", [1, 3, 5])
async def test_killed_after_k_users(settings: Settings, raw_database: Any, k: int) -> None:
    fast = quick(settings)
    hook, transport = StepHook(), CountingTransport()
    first = await make_api(fast, raw_database, fault=hook, transport=transport)
    job = await start_job(first, await selection_of(first, 6))
    # Killed once the k-th user's change is over (its email handed over), before the job
    # has recorded it: the next process must count it, not do it again.
    hook.arm(Step.DELIVERED, k, dies(f"after user {k}"))
    with pytest.raises(ProcessDied):
        await first.services.bulk.worker.run_once()
    second = await finish_elsewhere(fast, raw_database, transport)
    await assert_exactly_once(raw_database, job, transport)
    for api in (first, second):
        await api.client.aclose()


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("mode", ["dies", "raises"])
async def test_killed_in_the_middle_of_a_users_change(
    settings: Settings, raw_database: Any, step: Step, mode: str
) -> None:
    fast = quick(settings)
    hook, transport = StepHook(), CountingTransport()
    first = await make_api(fast, raw_database, fault=hook, transport=transport)
    job = await start_job(first, await selection_of(first, 4))
    hook.arm(step, 2, (dies if mode == "dies" else raises)(f"user 2 at {step.value}"))
    second = None
    if mode == "dies":
        with pytest.raises(ProcessDied):
            await first.services.bulk.worker.run_once()
        second = await finish_elsewhere(fast, raw_database, transport)
    else:  # an error inside the change path: the same worker looks again and carries on
        assert await first.services.bulk.worker.run_once()
        await first.services.recovery.sweep()  # as the periodic sweep would: stuck emails
    await assert_exactly_once(raw_database, job, transport)
    for api in (first, second):
        if api is not None:
            await api.client.aclose()


async def _run_killed_at(
    settings: Settings, database: Any, phase: str, at: int | None
) -> tuple[Killer, Started | None]:
    """Start a 3-user job and run it, the process killed at its `at`-th write of `phase`
    ("start": the startBulkReset request; "run": the worker). `at` None: never killed."""
    killer = Killer()
    first = await make_api(settings, WrappedDatabase(database, killer=killer))
    selection = await selection_of(first, 3)
    job: Started | None = None
    try:
        if phase == "start" and at is not None:
            killer.arm(at)
        job = await start_job(first, selection)
        if phase == "run" and at is not None:
            killer.arm(at)
        elif at is None:
            killer.arm(10**9)  # count the worker's writes
        await first.services.bulk.worker.run_once()
    except ProcessDied:
        assert killer.dead
    finally:
        await first.client.aclose()
    return killer, job


@pytest.mark.parametrize("phase", ["start", "run"])
async def test_killed_at_every_write_of_a_job(
    settings: Settings, raw_database: Any, tmp_path: Any, phase: str
) -> None:
    fast = quick(settings, demo_users=8)
    # A run without a crash counts the writes: each is a point where the process can die.
    killer, _ = await _run_killed_at(fast, raw_database, phase, None)
    writes = killer.writes if phase == "run" else 3  # start: the items, the job, its entry
    assert writes > 20 or phase == "start", writes
    from mongomock_motor import AsyncMongoMockClient

    for at in range(1, writes + 1):
        database = AsyncMongoMockClient()[f"killed_{phase}_{at}"]
        killer, job = await _run_killed_at(fast, database, phase, at)
        assert killer.dead, f"write {at} of {writes} was never reached"
        await asyncio.sleep(0.002)
        second = await make_api(fast, database)
        await second.services.bulk.worker.run_once()
        if job is None:
            # Killed while starting: either no job (the client saw an error and may retry)
            # or a job that runs to the end like any other.
            stored = await database.get_collection("bulk_reset_jobs").find({}).to_list(None)
            assert len(stored) <= 1, killer.last
            if not stored:
                entries = await database.get_collection("audit_events").count_documents(
                    {"incidentId": {"$exists": True}}
                )
                assert entries == 0, "an incident entry without its job"
                await second.client.aclose()
                continue
            incident = stored[0]["incidentId"]
            items = (
                await database.get_collection("bulk_reset_items")
                .find({"jobId": stored[0]["_id"], "index": {"$lt": stored[0]["total"]}})
                .to_list(None)
            )
            job = Started("", stored[0]["_id"], incident, [i["userId"] for i in items], {})
        try:
            await assert_exactly_once(database, job)
        except AssertionError as failure:
            raise AssertionError(f"killed at write {at} ({killer.last}): {failure}") from None
        await second.client.aclose()


async def test_a_stalled_worker_loses_its_lease_to_a_second_app(
    settings: Settings, raw_database: Any
) -> None:
    """Lease expiry and takeover: A stalls holding a user's lock mid-change; its lease runs
    out; B, on the same database, takes the job, waits for A's change instead of redoing
    it, and carries on. A finishes that one change, finds the lease gone and stops."""
    fast = quick(settings, recovery_grace_seconds=60, bulk_reset_lease_seconds=0.3)
    hook, transport = StepHook(), CountingTransport()
    first = await make_api(fast, raw_database, fault=hook, transport=transport)
    second = await make_api(fast, raw_database, transport=transport)
    job = await start_job(first, await selection_of(first, 5))
    stalled, resume = asyncio.Event(), asyncio.Event()

    async def stall() -> None:
        stalled.set()
        await resume.wait()

    hook.arm(Step.LOCKED, 2, stall)
    worker_a = asyncio.create_task(first.services.bulk.worker.run_once())
    await asyncio.wait_for(stalled.wait(), 10)
    await asyncio.sleep(0.4)  # A's lease lapses (scheduling only; nothing asserts on time)
    worker_b = asyncio.create_task(second.services.bulk.worker.run_once())
    await asyncio.sleep(0.2)  # B has taken the job and found user 2 in flight
    assert not worker_b.done()
    doc = await raw_database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert doc["lease"]["owner"] == second.services.bulk.worker.owner
    assert doc["nextIndex"] == 1, "B must not move past the user A is changing"
    resume.set()
    assert await asyncio.wait_for(worker_a, 10) is True
    assert await asyncio.wait_for(worker_b, 10) is True
    await assert_exactly_once(raw_database, job, transport)
    resets = (
        await raw_database.get_collection("audit_events")
        .find({"incidentId": job.incident_id, "action": "RESET"})
        .to_list(None)
    )
    # A (epoch 1) did users 1 and 2, B (epoch 2) the rest: each under its holder's id.
    operations = {e["userId"]: e["operationId"] for e in resets}
    epochs = [1, 1, 2, 2, 2]
    assert [operations[u] for u in job.user_ids] == [
        user_operation_id(job.raw_id, u, epoch)
        for u, epoch in zip(job.user_ids, epochs, strict=True)
    ]
    for api in (first, second):
        await api.client.aclose()


async def test_a_graceful_restart_gives_the_lease_back(
    settings: Settings, raw_database: Any
) -> None:
    """A stopping process finishes its user and releases the job: the next process
    resumes at once, even with a long lease."""
    fast = quick(settings, bulk_reset_lease_seconds=600)
    hook, transport = StepHook(), CountingTransport()
    first = await make_api(fast, raw_database, fault=hook, transport=transport)
    job = await start_job(first, await selection_of(first, 5))

    async def stop() -> None:
        first.services.bulk.worker.stop()

    hook.arm(Step.LOCKED, 3, stop)
    assert await first.services.bulk.worker.run_once()
    doc = await raw_database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert (doc["status"], doc["nextIndex"], "lease" in doc) == ("RUNNING", 3, False)
    second = await make_api(fast, raw_database, transport=transport)
    assert await second.services.bulk.worker.run_once()
    await assert_exactly_once(raw_database, job, transport)
    for api in (first, second):
        await api.client.aclose()


async def test_after_a_hard_restart_the_job_waits_for_its_lease(
    settings: Settings, raw_database: Any
) -> None:
    fast = quick(settings, bulk_reset_lease_seconds=1.0)
    hook, transport = StepHook(), CountingTransport()
    first = await make_api(fast, raw_database, fault=hook, transport=transport)
    job = await start_job(first, await selection_of(first, 4))
    hook.arm(Step.UNLOCKED, 2, dies("killed"))
    with pytest.raises(ProcessDied):
        await first.services.bulk.worker.run_once()
    second = await make_api(fast, raw_database, transport=transport)
    # The dead process's lease still runs: nobody may take the job yet.
    assert not await second.services.bulk.worker.run_once()
    await asyncio.sleep(1.1)
    assert await second.services.bulk.worker.run_once()
    await assert_exactly_once(raw_database, job, transport)
    for api in (first, second):
        await api.client.aclose()


async def test_a_job_that_keeps_failing_ends_failed(settings: Settings, raw_database: Any) -> None:
    """Unexpected errors (not refusals) on one user: after three tries the job gives up as
    FAILED, says where, and the users after it are left as they were."""
    fast = quick(settings)
    hook = StepHook()
    api = await make_api(fast, raw_database, fault=hook)
    job = await start_job(api, await selection_of(api, 4))
    attempts = 0

    async def broken() -> None:
        nonlocal attempts
        attempts += 1
        hook.arm(Step.CLAIMED, 1, broken)  # and again on the next try
        raise RuntimeError("the store misbehaves")

    hook.arm(Step.CLAIMED, 2, broken)
    assert await api.services.bulk.worker.run_once()
    assert attempts == 3
    doc = await raw_database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert (doc["status"], doc["done"], doc["nextIndex"]) == ("FAILED", 1, 1)
    assert doc["error"] == "stopped at user 2 of 4: RuntimeError"
    finished = await raw_database.get_collection("audit_events").find_one(
        {"incidentId": job.incident_id, "action": "BULK_RESET_FINISHED"}
    )
    assert finished["summary"] == "FAILED total=4 reset=1 failed=0 skipped=1 notRun=3"
    items = (
        await raw_database.get_collection("bulk_reset_items")
        .find({"jobId": job.raw_id})
        .sort("index", 1)
        .to_list(None)
    )
    assert [i["outcome"] for i in items] == ["RESET", "NOT_RUN", "NOT_RUN", "NOT_RUN", "SKIPPED"]
    resets = await raw_database.get_collection("audit_events").count_documents(
        {"incidentId": job.incident_id, "action": "RESET"}
    )
    assert resets == 1
    assert not await api.services.bulk.worker.run_once(), "a FAILED job never runs again"
    await assert_consistent(raw_database)
    await api.client.aclose()


def test_the_pause_between_users_keeps_the_rate_and_half_the_process() -> None:
    assert pause_after(0.01, 20) == pytest.approx(0.04)  # quick users: the rate decides
    assert pause_after(0.08, 20) == pytest.approx(0.08)  # slow ones: at least as long again
    assert pause_after(0.08, 0) == 0.0  # unpaced


async def assert_the_ended_job_tells_the_truth(database: Any, job: Started, status: str) -> None:
    """An ended job's stored result list and counts say what happened to each user: RESET
    exactly when the user has a RESET entry of the incident, NOT_RUN (nothing changed)
    otherwise; none left PENDING; the end entry's counts agree."""
    doc = await database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert doc["status"] == status and "lease" not in doc
    items = {
        i["userId"]: i
        for i in await database.get_collection("bulk_reset_items")
        .find({"jobId": job.raw_id, "index": {"$lt": doc["total"]}})
        .to_list(None)
    }
    resets = {
        e["userId"]: e
        for e in await database.get_collection("audit_events")
        .find({"incidentId": job.incident_id, "action": "RESET", "outcome": "SUCCESS"})
        .to_list(None)
    }
    for user_id in job.user_ids:
        item = items[user_id]
        if user_id in resets:
            assert (item["outcome"], item.get("sequence")) == (
                "RESET",
                resets[user_id]["_id"],
            ), f"{user_id} was reset by the incident, but its line says otherwise: {item}"
        else:
            assert item["outcome"] == "NOT_RUN", (user_id, item)
    not_run = sum(1 for i in items.values() if i["outcome"] == "NOT_RUN")
    assert (doc["done"], doc["failed"], doc["nextIndex"]) == (len(resets), 0, len(resets))
    finished = await database.get_collection("audit_events").find_one(
        {"incidentId": job.incident_id, "action": "BULK_RESET_FINISHED"}
    )
    assert finished["summary"] == (
        f"{status} total={doc['total']} reset={len(resets)} failed=0 skipped={doc['skipped']} "
        f"notRun={not_run}"
    )
    await assert_consistent(database)


@pytest.mark.parametrize("step", list(Step))
async def test_a_job_cancelled_after_its_process_died_mid_user_counts_that_user_right(
    settings: Settings, raw_database: Any, step: Step
) -> None:
    """The process dies in the middle of user 2's change; the job is then cancelled from
    another process. Whatever recovery makes of user 2's change (finished or undone), the
    ended job counts it as it came out: RESET with its entry, or NOT_RUN."""
    fast = quick(settings)
    hook = StepHook()
    first = await make_api(fast, raw_database, fault=hook)
    job = await start_job(first, await selection_of(first, 4))
    hook.arm(step, 2, dies(f"user 2 at {step.value}"))
    with pytest.raises(ProcessDied):
        await first.services.bulk.worker.run_once()
    await asyncio.sleep(0.01)  # the dead process's lease and lock lapse
    second = await make_api(fast, raw_database)
    answer = await second.data(operation("CancelBulkReset"), {"jobId": job.id})
    assert answer["cancelBulkReset"]["job"]["status"] == "CANCELLED"
    await assert_the_ended_job_tells_the_truth(raw_database, job, "CANCELLED")
    for api in (first, second):
        await api.client.aclose()


async def test_a_cancel_leaves_a_change_in_flight_to_the_worker(
    settings: Settings, raw_database: Any
) -> None:
    """A cancel does not wait for a change a dead process left in flight (it is not stale
    yet): the job stays RUNNING with `cancelRequested`, and a worker ends it once
    recovery has finished or undone that change."""
    patient = quick(settings, recovery_grace_seconds=600)
    hook = StepHook()
    first = await make_api(patient, raw_database, fault=hook)
    job = await start_job(first, await selection_of(first, 4))
    hook.arm(Step.COMMITTED, 2, dies("user 2 committed"))
    with pytest.raises(ProcessDied):
        await first.services.bulk.worker.run_once()
    await asyncio.sleep(0.01)
    second = await make_api(patient, raw_database)
    answer = await second.data(operation("CancelBulkReset"), {"jobId": job.id})
    state = answer["cancelBulkReset"]["job"]
    assert (state["status"], state["cancelRequested"]) == ("RUNNING", True)
    doc = await raw_database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert "lease" not in doc and "ending" not in doc, "given back, not ended"
    third = await make_api(quick(settings), raw_database)  # its recovery may repair at once
    assert await third.services.bulk.worker.run_once()
    await assert_the_ended_job_tells_the_truth(raw_database, job, "CANCELLED")
    for api in (first, second, third):
        await api.client.aclose()

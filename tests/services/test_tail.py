"""The process's tail of the audit trail (app.services.tail), driven poll by poll."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mongomock_motor import AsyncMongoMockClient

from app.domain.entry import AuditDraft
from app.domain.models import (
    SYSTEM_META,
    AuditAction,
    AuditOutcome,
)
from app.domain.reads import AuditFilter
from app.services import tail as tail_module
from app.services.chain import AuditChain
from app.services.feed import SubscriberDropped
from app.services.tail import AuditTail
from app.store.audit import AuditRepository
from tests.support.live import subscribe

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def draft(n: int, action: AuditAction = AuditAction.RESET, user: str = "u1") -> AuditDraft:
    return AuditDraft(
        occurred_at=T0 + timedelta(seconds=n), action=action, outcome=AuditOutcome.SUCCESS,
        error_codes=(), user_id=user, bridge_id="default", previous_conference_id=None,
        new_conference_id=None, meta=SYSTEM_META, reason=None, recipients=(),
        to_non_primary=False, operation_id=f"op{n}",
    )  # fmt: skip


class Trail:
    """An embedded trail, its chain, and a tail over it."""

    def __init__(self, capacity: int = 100, now: list[float] | None = None) -> None:
        self.database: Any = AsyncMongoMockClient()["t"]
        self.repo = AuditRepository(self.database)
        self.chain = AuditChain(self.repo, None)
        self.clock = now if now is not None else [0.0]
        self.tail = AuditTail(
            self.repo, poll=3600, capacity=capacity, gap_wait=10, monotonic=lambda: self.clock[0]
        )
        self.appended = 0

    async def append(self, count: int, **kinds: Any) -> None:
        for _ in range(count):
            self.appended += 1
            await self.chain.append(draft(self.appended, **kinds))


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tail_module, "BATCH", 3)


async def test_each_entry_once_in_order_across_batches(small_batches: None) -> None:
    trail = Trail()
    await trail.append(2)  # before anyone subscribed: not news
    early = await subscribe(trail.tail, AuditFilter())
    await trail.append(7)
    assert await trail.tail.poll_once() == 3  # one batch at a time
    late = await subscribe(trail.tail, AuditFilter())  # between two batches
    while await trail.tail.poll_once():
        pass
    assert [e.sequence for e in await early.take(7)] == [3, 4, 5, 6, 7, 8, 9]
    assert [e.sequence for e in await late.take(4)] == [6, 7, 8, 9]
    assert await early.idle() and await late.idle()
    await trail.tail.close()


async def test_filters_are_applied_before_queueing() -> None:
    trail = Trail(capacity=3)
    sends = await subscribe(trail.tail, AuditFilter(action=AuditAction.SEND_INFO))
    await trail.append(5)  # resets: not for this subscriber, and they take no room
    await trail.append(2, action=AuditAction.SEND_INFO)
    await trail.append(1, user="u2", action=AuditAction.SEND_INFO)
    await trail.tail.poll_once()
    got = await sends.take(3)
    assert [(e.sequence, e.action) for e in got] == [(s, AuditAction.SEND_INFO) for s in (6, 7, 8)]
    await trail.tail.close()


async def test_a_subscriber_that_falls_behind_is_dropped_and_freed() -> None:
    trail = Trail(capacity=3)
    reasons: list[str] = []
    slow = await trail.tail.subscribe(AuditFilter(), on_drop=reasons.append)
    keen = await subscribe(trail.tail, AuditFilter())
    await trail.append(3)
    await trail.tail.poll_once()
    assert len(await keen.take(3)) == 3 and trail.tail.subscribers == 2
    await trail.append(1)  # the slow one has 3 waiting: a 4th does not fit
    await trail.tail.poll_once()
    assert len(reasons) == 1 and "3 events were waiting" in reasons[0]
    assert trail.tail.subscribers == 1  # it holds nothing any more
    with pytest.raises(SubscriberDropped, match="not read in time"):
        await anext(slow)
    assert [e.sequence for e in await keen.take(1)] == [4]
    await trail.tail.close()


async def test_resuming_reads_back_what_came_after() -> None:
    trail = Trail()
    await trail.append(4)
    first = await subscribe(trail.tail, AuditFilter())
    await trail.append(3)
    await trail.tail.poll_once()
    resumed = await subscribe(trail.tail, AuditFilter(), after=2)  # saw 1 and 2 elsewhere
    await trail.append(1)
    await trail.tail.poll_once()
    assert [e.sequence for e in await resumed.take(6)] == [3, 4, 5, 6, 7, 8]
    assert [e.sequence for e in await first.take(4)] == [5, 6, 7, 8]
    ahead = await subscribe(trail.tail, AuditFilter(), after=10)  # another process is ahead
    await trail.append(3)
    await trail.tail.poll_once()
    assert [e.sequence for e in await ahead.take(1)] == [11]
    await trail.tail.close()


async def test_resuming_too_far_back_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tail_module, "REPLAY_MAX", 3)
    trail = Trail()
    await trail.append(6)
    with pytest.raises(Exception, match="over 3 entries behind"):
        await trail.tail.subscribe(AuditFilter(), after=2)
    assert trail.tail.subscribers == 0
    await trail.tail.close()


async def test_a_hole_is_waited_for_then_stepped_over() -> None:
    trail = Trail()
    stream = await subscribe(trail.tail, AuditFilter())
    await trail.append(3)
    await trail.database.get_collection("audit_events").delete_one({"_id": 2})  # tampering
    await trail.tail.poll_once()
    assert [e.sequence for e in await stream.take(1)] == [1]
    for _ in range(3):  # entry 2 may still be on its way: wait
        await trail.tail.poll_once()
    assert trail.tail.position == 1 and await stream.idle()
    trail.clock[0] += 11  # it stays missing past gap_wait: step over it
    await trail.tail.poll_once()
    await trail.tail.poll_once()
    assert [e.sequence for e in await stream.take(1)] == [3]
    await trail.tail.close()


async def test_the_subscription_leaves_the_tail_when_closed() -> None:
    trail = Trail()
    stream = await trail.tail.subscribe(AuditFilter())
    await trail.append(1)
    await trail.tail.poll_once()
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert trail.tail.subscribers == 0
    await trail.tail.close()


# --- the email records ------------------------------------------------------------------


async def test_an_append_in_this_process_wakes_the_tail() -> None:
    """The tail polls hourly here: only the chain's wake-up can deliver the entry."""
    database: Any = AsyncMongoMockClient()["t"]
    repo = AuditRepository(database)
    tail = AuditTail(repo, poll=3600, capacity=10)
    chain = AuditChain(repo, None, on_append=tail.wake)
    reader = await subscribe(tail, AuditFilter())
    await asyncio.sleep(0.01)  # the tail's first poll found nothing and waits an hour
    await chain.append(draft(1))
    assert [e.sequence for e in await reader.take(1)] == [1]
    await tail.close()

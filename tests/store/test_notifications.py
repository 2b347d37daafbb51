"""The notifications collection (app.store.notifications): the hand-over lease on a
notification is taken atomically and settled once, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.models import Notification, NotificationKind, NotificationStatus
from app.store.indexes import ensure_indexes
from app.store.notifications import NotificationRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RETRYING, FAILED, SENT = (
    NotificationStatus.RETRYING,
    NotificationStatus.FAILED,
    NotificationStatus.SENT,
)


def note(n: int, status: NotificationStatus = NotificationStatus.PENDING) -> Notification:
    return Notification(
        id=f"n_{n}",
        kind=NotificationKind.CONFERENCE_INFO,
        to=("megan@contoso.example",),
        subject="s",
        body="b",
        conference_id="5081937",
        status=status,
        created_at=T0,
        to_primary_address=True,
        audit_sequence=n,
        user_id="u1",
        operation_id=f"op_{n}",
    )


async def repo(raw_database: Any) -> NotificationRepository:
    await ensure_indexes(raw_database)
    return NotificationRepository(raw_database)


async def test_a_first_hand_over_is_leased_once_and_settled_once(raw_database: Any) -> None:
    notes = await repo(raw_database)
    await notes.record(note(1))
    assert await notes.claim_first("n_1", T0, "a")
    assert not await notes.claim_first("n_1", T0, "b")  # held
    pending = NotificationStatus.PENDING
    assert await notes.settle("n_1", pending, 1, RETRYING, error="451 x", next_attempt_at=T0)
    assert not await notes.settle("n_1", pending, 1, SENT)  # settled already
    stored = await notes.get("n_1")
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == (RETRYING, 1, "451 x")
    doc = await raw_database.get_collection("notifications").find_one({"_id": "n_1"})
    assert "handoverAt" not in doc and "leaseOwner" not in doc


async def test_a_due_retry_is_leased_by_one_worker_only(raw_database: Any) -> None:
    notes = await repo(raw_database)
    for n, due in ((1, T0), (2, T0 + timedelta(minutes=5))):
        await notes.record(note(n))
        await notes.claim_first(f"n_{n}", T0, "a")
        await notes.settle(f"n_{n}", NotificationStatus.PENDING, 1, RETRYING, error="e",
                           next_attempt_at=due)  # fmt: skip
    first = await notes.claim_due(T0 + timedelta(minutes=1), "a")
    assert first is not None and (first.id, first.attempts) == ("n_1", 2)
    assert await notes.claim_due(T0 + timedelta(minutes=1), "b") is None  # leased / not due
    later = await notes.claim_due(T0 + timedelta(minutes=9), "b", exclude=["n_9"])
    assert later is not None and later.id == "n_2"
    doc = await raw_database.get_collection("notifications").find_one({"_id": "n_2"})
    assert doc["leaseOwner"] == "b" and doc["handoverAt"] is not None


async def test_a_sweep_never_fails_a_hand_over_that_was_settled_meanwhile(
    raw_database: Any,
) -> None:
    # The sweep read the record while its lease looked stale; the slow attempt then
    # settled it. The sweep's "give up" (same status, same attempt count) must not land.
    notes = await repo(raw_database)
    await notes.record(note(1))
    await notes.claim_first("n_1", T0, "a")
    await notes.settle("n_1", NotificationStatus.PENDING, 1, RETRYING, error="e",
                       next_attempt_at=T0)  # fmt: skip
    seen_by_sweep = (RETRYING, 1)
    retry = await notes.claim_due(T0, "a")
    assert retry is not None
    assert await notes.settle("n_1", RETRYING, 2, RETRYING, error="e2", next_attempt_at=T0)
    assert not await notes.settle("n_1", *seen_by_sweep, FAILED, error="delivery unknown")
    assert not await notes.settle("n_1", RETRYING, 2, FAILED, error="delivery unknown")
    stored = await notes.get("n_1")
    assert stored is not None and (stored.status, stored.attempts) == (RETRYING, 2)

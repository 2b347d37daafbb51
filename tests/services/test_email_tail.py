"""The tail of the email records (app.services.email_tail), driven poll by poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mongomock_motor import AsyncMongoMockClient

from app.domain.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
)
from app.domain.subscription import NotificationFilter
from app.services.email_tail import NotificationTail
from app.store.notifications import NotificationRepository
from tests.support.live import subscribe


def note(n: int, status: NotificationStatus = NotificationStatus.PENDING) -> Notification:
    return Notification(
        id=f"n{n}", kind=NotificationKind.CONFERENCE_ID_CHANGED, to=("a@x.example",),
        subject="s", body="b", conference_id="5550147", status=status,
        created_at=datetime.now(UTC), to_primary_address=True, audit_sequence=n,
        user_id="u1" if n % 2 else "u2", operation_id=f"op{n}",
    )  # fmt: skip


async def test_email_records_arrive_once_per_change_and_never_older() -> None:
    database: Any = AsyncMongoMockClient()["t"]
    repo = NotificationRepository(database)
    await repo.record(note(1))  # already there before anyone listened
    feed = NotificationTail(
        repo, lambda: datetime.now(UTC), poll=3600, capacity=100, window=timedelta(hours=1)
    )
    everything = await subscribe(feed, NotificationFilter())
    mine = await subscribe(feed, NotificationFilter(user_id="u1"))
    await repo.record(note(2))
    await repo.record(note(3))
    await feed.poll_once()
    await feed.poll_once()  # the window reads them again: they are not offered twice
    now = datetime.now(UTC)
    assert await repo.claim_first("n3", now, "me")
    assert await repo.settle("n3", NotificationStatus.PENDING, 1, NotificationStatus.SENT)
    await feed.poll_once()
    got = [(n.id, n.status) for n in await everything.take(3)]
    assert got == [
        ("n2", NotificationStatus.PENDING),
        ("n3", NotificationStatus.PENDING),
        ("n3", NotificationStatus.SENT),  # claim and settle between two looks: the latest
    ]
    assert [(n.id, n.status) for n in await mine.take(2)] == [
        ("n3", NotificationStatus.PENDING),
        ("n3", NotificationStatus.SENT),
    ]
    assert await everything.idle()
    await feed.close()

"""One tail of `notifications` per process: emails recorded or changed, to live subscribers.

Every write of a notification record bumps its `rev` and stamps `updatedAt` (the database
server's clock for updates, the writer's for the first insert). The tail reads the records
stamped since a little before its previous look (`window` covers the time a write takes to
become visible and the clocks' disagreement) and offers each record whose `rev` it has not
offered yet. So every subscriber gets each change once and never an older state of a record
after a newer one; two changes of one record between two looks arrive as its latest state.
It reads only while someone subscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta

from app.domain.models import Notification
from app.domain.subscription import NotificationFilter
from app.services.clock import Clock
from app.services.feed import Fanout, Subscriber
from app.store.notifications import NotificationRepository

log = logging.getLogger("confid.live")

PAGE = 500


class NotificationTail:
    """Follows changes of email records, in one background task while anyone listens."""

    def __init__(
        self,
        notifications: NotificationRepository,
        clock: Clock,
        *,
        poll: float,
        capacity: int,
        window: timedelta = timedelta(seconds=5),
    ) -> None:
        self._notes = notifications
        self._clock = clock
        self._poll = poll
        self._capacity = capacity
        self._window = window
        self._fanout: Fanout[Notification] = Fanout()
        self._offered: dict[str, tuple[int, datetime]] = {}  # id -> (rev, stamp)
        self._since: datetime | None = None
        self._started = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribers(self) -> int:
        return len(self._fanout)

    async def subscribe(
        self, where: NotificationFilter, on_drop: Callable[[str], None] | None = None
    ) -> AsyncGenerator[Notification, None]:
        """Email records matching `where`, each time one is recorded or changes."""
        async with self._started:
            if self._since is None:
                await self._look(offer=False)  # what is already there is not news
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="confid email tail")
        subscriber: Subscriber[Notification] = Subscriber(where.matches, self._capacity, on_drop)
        self._fanout.add(subscriber)
        return self._stream(subscriber)

    async def _stream(
        self, subscriber: Subscriber[Notification]
    ) -> AsyncGenerator[Notification, None]:
        try:
            async for note in subscriber.items():
                yield note
        finally:
            self._fanout.remove(subscriber)

    async def close(self) -> None:
        self._fanout.close("confid is shutting down")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            if not self._fanout:
                continue
            try:
                await self._look(offer=True)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the email tail could not read the notifications; retrying")

    async def poll_once(self) -> None:
        """One look (tests drive the tail with it)."""
        await self._look(offer=True)

    async def _look(self, *, offer: bool) -> None:
        started = self._clock()
        since = (self._since or started) - self._window
        position: tuple[datetime, str] | None = None
        while True:
            rows = await self._notes.changed_since(since, position, PAGE)
            for note, rev, stamp in rows:
                if self._offered.get(note.id, (0, stamp))[0] >= rev:
                    continue
                self._offered[note.id] = (rev, stamp)
                if offer:
                    self._fanout.publish(note)
            if len(rows) < PAGE:
                break
            _, _, stamp = rows[-1]
            position = (stamp, rows[-1][0].id)
        self._since = started
        for note_id in [k for k, (_, stamp) in self._offered.items() if stamp < since]:
            del self._offered[note_id]  # older than any later look reads

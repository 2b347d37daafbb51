"""One tail of `audit_events` per process, by sequence, fanned out to live subscribers.

Guarantees, for each subscriber:
- every entry appended after it subscribed (or after `after`, when it asked to resume) is
  delivered once, in sequence order: the tail only ever moves from sequence n to n + 1
  (`position`), each entry is offered to every subscriber once, and a subscriber is added
  between two offers, so it gets exactly the entries above the position at that moment;
  entries from `after` up to that position are read from the database first;
- memory is bounded: a subscriber whose queue is full is dropped, with a reason;
- any number of confid processes may append: each process tails the shared collection,
  and sequences are gapless (entry n + 1 is only written once entry n can be read), so a
  missing n + 1 means "not yet". Only a hole that stays (an entry deleted by tampering)
  is stepped over, after `gap_wait` seconds, with an error in the log.

The tail polls (one indexed look-up of `_id = position + 1` per interval while idle, then
ranges of `_id`s); on a replica set a change stream could feed the same `Fanout` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable

from app.domain.entry import AuditEntry
from app.domain.errors import BadRequest
from app.domain.reads import AuditFilter, entry_matches
from app.services.feed import Fanout, Subscriber
from app.store.audit import AuditRepository

log = logging.getLogger("confid.live")

BATCH = 500
REPLAY_MAX = 10_000  # entries a resuming subscriber may ask to be read back


class AuditTail:
    """Follows the trail from the head it found when first asked, in one background task."""

    def __init__(
        self,
        audit: AuditRepository,
        *,
        poll: float,
        capacity: int,
        gap_wait: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self._poll = poll
        self._capacity = capacity
        self._gap_wait = gap_wait
        self._monotonic = monotonic
        self._fanout: Fanout[AuditEntry] = Fanout()
        self._started = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._gap_since: float | None = None
        self.position: int | None = None  # the newest sequence offered to subscribers

    @property
    def subscribers(self) -> int:
        return len(self._fanout)

    async def start(self) -> None:
        """Find the head and begin following it (once; later calls return at once)."""
        async with self._started:
            if self.position is None:
                self.position = (await self._audit.head())[0]
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="confid audit tail")

    async def close(self) -> None:
        """Stop following; every subscriber is dropped."""
        self._fanout.close("confid is shutting down")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look for new entries now rather than at the next interval."""
        self._wake.set()

    async def check_resume(self, after: int | None) -> None:
        """BadRequest when `after` is further back than a subscriber may resume from."""
        await self.start()
        assert self.position is not None
        if after is not None and after < self.position - REPLAY_MAX:
            raise BadRequest(
                f"`afterSequence` is over {REPLAY_MAX} entries behind the trail's head "
                f"({self.position}): read older entries with `auditEvents`, then resume "
                "from there."
            )

    async def subscribe(
        self,
        where: AuditFilter,
        after: int | None = None,
        on_drop: Callable[[str], None] | None = None,
    ) -> AsyncGenerator[AuditEntry, None]:
        """Entries matching `where`, as they are appended (after sequence `after` when
        given: those already in the trail are read back first, at most REPLAY_MAX)."""
        await self.check_resume(after)
        assert self.position is not None
        now = self.position
        floor = now if after is None else after

        def accepts(entry: AuditEntry) -> bool:
            return entry.sequence > floor and entry_matches(where, entry)

        # Added between two offers: it gets every entry above `now`, none twice.
        subscriber: Subscriber[AuditEntry] = Subscriber(accepts, self._capacity, on_drop)
        self._fanout.add(subscriber)
        return self._stream(subscriber, where, after, now)

    async def _stream(
        self, subscriber: Subscriber[AuditEntry], where: AuditFilter, after: int | None, now: int
    ) -> AsyncGenerator[AuditEntry, None]:
        try:
            if after is not None and after < now:
                async for stored in self._audit.ascending(where=where, after=after, up_to=now):
                    if stored.entry is not None:
                        yield stored.entry
            async for entry in subscriber.items():
                yield entry
        finally:
            self._fanout.remove(subscriber)

    async def _run(self) -> None:
        while True:
            try:
                found = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the audit tail could not read the trail; retrying")
                found = 0
            if found < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                self._wake.clear()

    async def poll_once(self) -> int:
        """Offer the entries appended since the last poll; how many there were."""
        assert self.position is not None
        if not await self._audit.has(self.position + 1):
            await self._step_over_a_hole()
            return 0
        self._gap_since = None
        found = 0
        for stored in await self._audit.after(self.position, BATCH):
            if stored.sequence != self.position + 1:
                break  # a hole inside the batch: its entry is not visible yet
            self.position = stored.sequence
            found += 1
            if stored.entry is None:
                log.error("audit entry %d is unreadable; not sent to subscribers", stored.sequence)
                continue
            self._fanout.publish(stored.entry)
        return found

    async def _step_over_a_hole(self) -> None:
        """Entry n + 1 is missing: normal when nothing was appended; a hole when later
        entries exist, which only tampering leaves behind (appends are gapless)."""
        assert self.position is not None
        if self._gap_since is None:
            if await self._audit.any_after(self.position + 1):
                self._gap_since = self._monotonic()
            return
        if self._monotonic() - self._gap_since < self._gap_wait:
            return
        missing = self.position + 1
        log.error(
            "audit entry %d is missing while later entries exist (deleted?): live "
            "subscribers skip it; verifyAuditTrail will name it",
            missing,
        )
        self.position = missing
        self._gap_since = None

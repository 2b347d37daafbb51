"""The delivery worker: tries RETRYING emails again once they are due.

Each confid process runs one; several may share a database. A worker takes each due email
with a lease (one atomic update on the record, see `NotificationRepository.claim_due`),
so no attempt is ever made by two processes, and it makes at most `batch` attempts at
once. A process that dies mid-attempt leaves its lease behind; the recovery sweep turns
that into FAILED "delivery unknown" once the grace period has passed, never a resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.domain.models import Notification
from app.services.outbox import Outbox

log = logging.getLogger("confid.delivery")


class DeliveryWorker:
    """Polls for due retries every `poll` seconds, and drains them when it finds some."""

    def __init__(self, outbox: Outbox, *, poll: float, batch: int = 8) -> None:
        self._outbox = outbox
        self._poll = poll
        self._batch = batch
        self._stop = asyncio.Event()

    async def run_once(self) -> int:
        """One pass: every email due now is attempted once (at most `batch` at a time).
        Returns how many attempts this process made."""
        tried: set[str] = set()
        while not self._stop.is_set():  # stopping: make no new claim
            leased: list[Notification] = []
            try:
                while len(leased) < self._batch:
                    note = await self._outbox.claim_due(exclude=tried)
                    if note is None:
                        break
                    tried.add(note.id)
                    leased.append(note)
            finally:  # whatever happened while claiming, what was leased is attempted
                await self._attempt(leased)
            if not leased:
                break
        return len(tried)

    async def _attempt(self, leased: list[Notification]) -> None:
        results = await asyncio.gather(
            *(self._outbox.attempt(note) for note in leased), return_exceptions=True
        )
        for note, result in zip(leased, results, strict=True):
            if isinstance(result, BaseException):
                # Its lease stays: recovery settles it (FAILED, delivery unknown), never
                # a second send.
                log.error("retry of email %s failed: %r", note.id, result)

    async def run_forever(self) -> None:
        """Pass after pass until `stop`; a failing pass is logged and tried next time."""
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("delivery pass failed; trying again in %.1f s", self._poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._poll)

    def stop(self) -> None:
        """Finish the attempts under way, then leave `run_forever`."""
        self._stop.set()

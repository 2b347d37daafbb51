"""The recovery sweep: finishes or undoes changes whose process died, and stuck emails.

Only state older than the grace period is touched, so a sweep never races a change that
is still in flight in another confid process on the same database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from app.services.clock import Clock
from app.services.completion import Completion, Repairs
from app.services.observer import NO_OBSERVER, Observer
from app.services.outbox import Outbox
from app.store.registry import ConferenceIdRegistry
from app.store.users import UserRepository

log = logging.getLogger("confid.recovery")


@dataclass(slots=True)
class SweepReport:
    """What one sweep repaired."""

    finished: int = 0
    undone: int = 0
    released: int = 0
    delivered: int = 0
    failed_unknown: int = 0

    @property
    def total(self) -> int:
        return self.finished + self.undone + self.released + self.delivered + self.failed_unknown


class RecoveryService:
    """Repairs what a dead process left half-done."""

    def __init__(
        self,
        *,
        users: UserRepository,
        registry: ConferenceIdRegistry,
        completion: Completion,
        outbox: Outbox,
        clock: Clock,
        grace: timedelta,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self._users = users
        self._observer = observer
        self._registry = registry
        self._completion = completion
        self._outbox = outbox
        self._clock = clock
        self._grace = grace

    async def repair_user(self, user_id: str) -> None:
        """Repair the stale change holding one user, now (see `Completion.repair_user`)."""
        await self._completion.repair_user(user_id)

    async def sweep(self) -> SweepReport:
        """One pass over stale locks, orphaned reservations and stuck emails."""
        report = SweepReport()
        cutoff = self._clock() - self._grace
        repairs = Repairs()
        for user_id in await self._users.locked_before(cutoff):
            await self._completion.repair_user(user_id, repairs)
        report.finished, report.undone = repairs.finished, repairs.undone
        for operation_id in await self._registry.reserved_before(cutoff):
            if not await self._users.is_locked_by(operation_id):
                await self._registry.release(operation_id)
                report.released += 1
        for note, handover_at in await self._outbox.pending_before(cutoff):
            if handover_at is not None and handover_at >= cutoff:
                continue  # a hand-over still within its grace: leave it to its sender
            if handover_at is not None:
                await self._outbox.give_up(
                    note, "delivery unknown: the process stopped during hand-over"
                )
                report.failed_unknown += 1
            else:
                await self._outbox.deliver(note)
                report.delivered += 1
        # Finished and undone changes are reported by `Completion` (requests repair too).
        for kind, count in (
            ("released", report.released),
            ("delivered", report.delivered),
            ("failed_unknown", report.failed_unknown),
        ):
            if count:
                self._observer.repaired(kind, count)
        if report.total:
            log.warning("recovery sweep repaired: %s", report)
        return report

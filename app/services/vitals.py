"""Vital signs read from the database: the email backlog and how far the trail is signed.

These are the figures an operator alerts on that no single process can count by itself
(every process shares the outbox and the trail), so they are read, not counted. A read
costs a handful of indexed queries; the metrics read them when scraped, at most every
few seconds, never per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.models import NotificationStatus
from app.services.clock import Clock
from app.store.audit import AuditRepository
from app.store.checkpoints import CheckpointRepository
from app.store.notifications import NotificationRepository

#: The statuses of emails still waiting to be handed over.
BACKLOG_STATUSES = (NotificationStatus.PENDING, NotificationStatus.RETRYING)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Emails waiting in one status, and when the oldest of them was recorded."""

    status: NotificationStatus
    count: int
    oldest_created_at: datetime | None


@dataclass(frozen=True, slots=True)
class VitalSigns:
    """One reading, all taken at `read_at`."""

    read_at: datetime
    backlog: tuple[Backlog, ...]
    head_sequence: int
    checkpoint_sequence: int | None  # the newest signed checkpoint, if any
    checkpoint_signed_at: datetime | None

    def backlog_age_seconds(self, backlog: Backlog) -> float:
        """How long the oldest email in `backlog` has waited (0 when none waits)."""
        if backlog.oldest_created_at is None:
            return 0.0
        return max(0.0, (self.read_at - backlog.oldest_created_at).total_seconds())

    @property
    def checkpoint_age_seconds(self) -> float | None:
        """Time since the newest checkpoint was signed; None when there is none."""
        if self.checkpoint_signed_at is None:
            return None
        return max(0.0, (self.read_at - self.checkpoint_signed_at).total_seconds())


class Vitals:
    """Reads `VitalSigns`."""

    def __init__(
        self,
        notifications: NotificationRepository,
        audit: AuditRepository,
        checkpoints: CheckpointRepository,
        clock: Clock,
    ) -> None:
        self._notifications = notifications
        self._audit = audit
        self._checkpoints = checkpoints
        self._clock = clock

    async def read(self) -> VitalSigns:
        """Read the backlog, the chain head and the newest checkpoint."""
        backlog = []
        for status in BACKLOG_STATUSES:
            count, oldest = await self._notifications.backlog(status)
            backlog.append(Backlog(status, count, oldest))
        head_sequence, _ = await self._audit.head()
        newest, _more = await self._checkpoints.page(1, None)
        checkpoint = newest[0][1] if newest else None
        return VitalSigns(
            read_at=self._clock(),
            backlog=tuple(backlog),
            head_sequence=head_sequence,
            checkpoint_sequence=checkpoint.sequence if checkpoint else None,
            checkpoint_signed_at=checkpoint.signed_at if checkpoint else None,
        )

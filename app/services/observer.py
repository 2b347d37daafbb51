"""What services report as they work, for whoever watches (the metrics, when they are on).

Services call these hooks at the moment a thing happened (an entry appended, an email
settled, a repair made); they never read anything back, and the default does nothing.
"""

from __future__ import annotations

from typing import Protocol

from app.domain.models import AuditAction, AuditOutcome, NotificationStatus


class Observer(Protocol):
    """The events services report."""

    def audited(self, action: AuditAction, outcome: AuditOutcome) -> None:
        """An entry was appended to the audit chain by this process."""

    def email_status(self, status: NotificationStatus) -> None:
        """An email was recorded with `status`, or an attempt to hand it over ended so."""

    def repaired(self, kind: str, count: int = 1) -> None:
        """Recovery repaired `count` things of one kind (see `REPAIR_KINDS`)."""


#: What recovery repairs: a committed change finished, an uncommitted one undone, an
#: orphaned ID reservation released, a stuck PENDING email handed over, an interrupted
#: hand-over marked FAILED ("delivery unknown").
REPAIR_KINDS = ("finished", "undone", "released", "delivered", "failed_unknown")


class NoObserver:
    """Watches nothing (metrics off)."""

    def audited(self, action: AuditAction, outcome: AuditOutcome) -> None:
        pass

    def email_status(self, status: NotificationStatus) -> None:
        pass

    def repaired(self, kind: str, count: int = 1) -> None:
        pass


NO_OBSERVER: Observer = NoObserver()

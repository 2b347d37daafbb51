"""What a change reports back, and rebuilding that report from what it left behind."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.entry import AuditEntry
from app.domain.errors import Problem
from app.domain.models import Notification, User
from app.store.audit import AuditRepository
from app.store.notifications import NotificationRepository
from app.store.users import UserRepository


@dataclass(slots=True)
class ChangeOutcome:
    """What a mutation reports: the user, its audit entry and email, or the problems."""

    user: User | None = None
    audit_event: AuditEntry | None = None
    notification: Notification | None = None
    problems: list[Problem] = field(default_factory=list)
    replayed: bool = False  # an idempotent retry: the first request's outcome, re-read


class OutcomeReader:
    """Reads an operation's outcome back from the trail (for idempotent retries)."""

    def __init__(
        self, entries: AuditRepository, notes: NotificationRepository, users: UserRepository
    ) -> None:
        self._entries = entries
        self._notes = notes
        self._users = users

    async def replay(self, operation_id: str) -> ChangeOutcome | None:
        """The outcome an operation had; None if it left no audit entry (yet)."""
        entry = await self._entries.by_operation(operation_id)
        if entry is None:
            return None
        note = await self._notes.by_operation(operation_id)
        user = await self._users.get(entry.user_id) if entry.user_id else None
        return ChangeOutcome(user=user, audit_event=entry, notification=note, replayed=True)

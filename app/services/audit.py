"""Reading and verifying the audit trail, and the emails it caused."""

from __future__ import annotations

from app.domain.audit import ChainVerification, ChainVerifier
from app.domain.models import AuditEntry, Notification, NotificationKind
from app.store.audit import AuditFilter, AuditRepository
from app.store.notifications import NotificationRepository


class AuditService:
    """What auditors read."""

    def __init__(self, audit: AuditRepository, notifications: NotificationRepository) -> None:
        self._audit = audit
        self._notifications = notifications

    async def events(
        self, where: AuditFilter, first: int, before: int | None
    ) -> tuple[list[AuditEntry], bool]:
        return await self._audit.page(where, first, before)

    async def events_by_sequence(self, sequences: list[int]) -> dict[int, AuditEntry]:
        return await self._audit.get_many(sequences)

    async def notifications(
        self, user_id: str | None, kind: NotificationKind | None, first: int, before: int | None
    ) -> tuple[list[Notification], bool]:
        return await self._notifications.page(user_id, kind, first, before)

    async def notifications_by_id(self, ids: list[str]) -> dict[str, Notification]:
        return await self._notifications.get_many(ids)

    async def verify(self) -> ChainVerification:
        """Recompute the whole chain in bounded pages; name the first entry that fails."""
        verifier = ChainVerifier()
        async for stored in self._audit.ascending():
            if stored.entry is None:
                verifier.feed_unreadable(stored.sequence, stored.problem or "unreadable")
            else:
                verifier.feed(stored.entry)
            if verifier.failed:
                break
        return verifier.result()

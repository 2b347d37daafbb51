"""The live feeds of one process: its tail of the audit trail and of the email records."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.email_tail import NotificationTail
from app.services.tail import AuditTail


@dataclass(frozen=True, slots=True)
class LiveFeeds:
    """Started on the first subscriber; stopped with the process."""

    audit: AuditTail
    notifications: NotificationTail

    async def close(self) -> None:
        await self.audit.close()
        await self.notifications.close()

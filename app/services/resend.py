"""Sending a FAILED email again: a new notification, linked to the old, through send-info.

The old record is never touched (its FAILED status and reason stay the truth about it).
The resend is a `sendConferenceInfo` to the same recipient, so it is audited the same way
(a SEND_INFO entry, also when refused), carries the user's current conference ID and
dial-in numbers (never a stale ID from the failed email), and gets a new notification id,
hence a new `Message-ID`: receivers that saw the old one do not drop it as a duplicate.
"""

from __future__ import annotations

from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction, NotificationStatus, RequestMeta
from app.services.changes import ChangeOutcome, ChangeService
from app.services.outbox import Outbox

FIELD = ("input", "notificationId")


class ResendService:
    """`resendNotification`: checks the old email, then sends info again."""

    def __init__(self, outbox: Outbox, changes: ChangeService) -> None:
        self._outbox = outbox
        self._changes = changes

    async def user_of(self, notification_id: str | None) -> str | None:
        """Whose email this is (for auditing refusals), if it exists."""
        note = await self._outbox.get(notification_id) if notification_id else None
        return note.user_id if note else None

    async def resend(
        self, meta: RequestMeta, notification_id: str | None, *, op: str
    ) -> ChangeOutcome:
        """Send the FAILED notification `notification_id` again, as a new notification."""
        old = await self._outbox.get(notification_id) if notification_id else None
        if old is None:
            problem = Problem(UserErrorCode.NOT_FOUND, "No notification has this id.", FIELD)
            return await self._changes.refuse(op, AuditAction.SEND_INFO, meta, None, [problem])
        if old.status is not NotificationStatus.FAILED:
            problem = Problem(
                UserErrorCode.NOT_RESENDABLE,
                f"Only a FAILED email can be resent; this one is {old.status.value}.",
                FIELD,
            )
            return await self._changes.refuse(
                op, AuditAction.SEND_INFO, meta, old.user_id, [problem]
            )
        return await self._changes.send_info(meta, old.user_id, old.to[0], op=op, resend_of=old.id)

"""Sending a FAILED email again: a new notification, linked to the old, through send-info.

The old record is never touched (its FAILED status and reason stay the truth about it).
The resend is a `sendConferenceInfo` to the same recipient, so it is audited the same way
(a SEND_INFO entry, also when refused), carries the user's current conference ID and
dial-in numbers (never a stale ID from the failed email), and gets a new notification id,
hence a new `Message-ID`: receivers that saw the old one do not drop it as a duplicate.

A FAILED email is sent again at most once: the change path refuses a second resend of it
under the user's lock (NOT_RESENDABLE, naming the resend, which may itself be resent if it
fails too), so a double click or two admins at once send one email. A retry with the same
idempotency key replays the first resend.
"""

from __future__ import annotations

from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction, NotificationStatus, RequestMeta
from app.services.changes import ChangeService
from app.services.outbox import Outbox
from app.services.outcomes import ChangeOutcome

FIELD = ("notificationId",)


class ResendService:
    """`resendNotification`: checks the old email, then sends info again."""

    def __init__(self, outbox: Outbox, changes: ChangeService) -> None:
        self._outbox = outbox
        self._changes = changes

    async def resend(
        self, meta: RequestMeta, notification_id: str, idempotency_key: str | None = None
    ) -> ChangeOutcome:
        """Send the FAILED notification `notification_id` again, as a new notification."""
        old = await self._outbox.get(notification_id)
        if old is None:
            problem = Problem(UserErrorCode.NOT_FOUND, "No notification has this id.", FIELD)
            return await self._changes.refuse(meta, AuditAction.SEND_INFO, "", [problem])
        if old.status is not NotificationStatus.FAILED:
            problem = Problem(
                UserErrorCode.NOT_RESENDABLE,
                f"Only a FAILED email can be resent; this one is {old.status.value}.",
                FIELD,
            )
            return await self._changes.refuse(meta, AuditAction.SEND_INFO, old.user_id, [problem])
        return await self._changes.send_info(
            meta, old.user_id, old.to[0], idempotency_key, resend_of=old.id
        )

"""`resendNotification`'s input and payload (the resolver sits with the other mutations)."""

from __future__ import annotations

import strawberry

from app.api.types import AuditEvent, Notification, UserError


@strawberry.input(description="Send a FAILED email again, as a new notification (admins only).")
class ResendNotificationInput:
    notification_id: strawberry.ID = strawberry.field(
        description="The FAILED notification to send again (it stays as it is)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended resend: a retry "
        "with the same key returns the first result and sends nothing more; the same key "
        "with a different input is refused (IDEMPOTENCY_KEY_REUSED). Remembered for 24 hours.",
    )


@strawberry.type(description="Result of `resendNotification`.")
class ResendNotificationPayload:
    notification: Notification | None = strawberry.field(
        description="The new notification (its `resendOf` is the FAILED one)."
    )
    audit_event: AuditEvent | None = strawberry.field(
        description="The SEND_INFO audit entry written (also when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")

"""`resendNotification`'s input and payload (the resolver sits with the other mutations)."""

from __future__ import annotations

import strawberry

from app.api.payloads import MutationInput, MutationPayload


@strawberry.input(description="Send a FAILED email again, as a new notification (admins only).")
class ResendNotificationInput(MutationInput):
    notification_id: strawberry.ID = strawberry.field(
        description="The FAILED notification to send again (it stays as it is)."
    )


@strawberry.type(
    description="Result of `resendNotification`: the new notification (its "
    "`resendOf` is the FAILED one) and the SEND_INFO audit entry (also when "
    "refused)."
)
class ResendNotificationPayload(MutationPayload):
    pass

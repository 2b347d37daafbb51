"""The Mutation root: each takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from app.api.bulk import BulkMutation
from app.api.context import Info
from app.api.ids import require_id
from app.api.payloads import ChangePayload, MutationInput, MutationPayload
from app.api.permissions import requires
from app.api.resend import ResendNotificationInput, ResendNotificationPayload
from app.api.results import UserError, user_errors
from app.api.trail_types import AuditCheckpoint
from app.domain.access import Capability
from app.domain.checkpoint import Checkpoint
from app.domain.errors import BadRequest, Problem, UserErrorCode
from app.services.outcomes import ChangeOutcome


@strawberry.input(description="Enable a user for audio conferencing.")
class EnableAudioConferencingInput(MutationInput):
    user_id: strawberry.ID = strawberry.field(description="The user to enable.")
    bridge_id: strawberry.ID | None = strawberry.field(
        default=None, description="The bridge; defaults to the default bridge."
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_INFO email; defaults to the tenant setting.",
    )


@strawberry.input(description="Give a user a hand-picked conference ID (admins only).")
class SetConferenceIdInput(MutationInput):
    user_id: strawberry.ID = strawberry.field(description="The user.")
    conference_id: str = strawberry.field(
        description="The new ID: exactly the bridge's length in ASCII digits, not weak."
    )
    reason: str | None = strawberry.field(
        default=None,
        description="Why (at most 500 characters, no control characters but line breaks and "
        "tabs); kept in the audit trail.",
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_ID_CHANGED email; defaults to the tenant setting.",
    )


@strawberry.input(description="Replace a user's conference ID with a fresh generated one.")
class ResetConferenceIdInput(MutationInput):
    user_id: strawberry.ID = strawberry.field(description="The user.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why (at most 500 characters, no control characters but line breaks and "
        "tabs); kept in the audit trail.",
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_ID_CHANGED email; defaults to the tenant setting.",
    )


@strawberry.input(description="Email a user's conference ID and dial-in numbers.")
class SendConferenceInfoInput(MutationInput):
    user_id: strawberry.ID = strawberry.field(description="The user.")
    to_address: str | None = strawberry.field(
        default=None,
        description="Another address to send to (at most 254 characters); flagged as not "
        "the primary address.",
    )


@strawberry.type(description="Result of `enableAudioConferencing`.")
class EnableAudioConferencingPayload(ChangePayload):
    pass


@strawberry.type(description="Result of `setConferenceId`.")
class SetConferenceIdPayload(ChangePayload):
    pass


@strawberry.type(description="Result of `resetConferenceId`.")
class ResetConferenceIdPayload(ChangePayload):
    pass


@strawberry.type(description="Result of `sendConferenceInfo`.")
class SendConferenceInfoPayload(MutationPayload):
    pass


async def _shielded(change: Awaitable[ChangeOutcome]) -> ChangeOutcome:
    """Run a change shielded from client disconnects, so it is never abandoned halfway."""
    return await asyncio.shield(change)


@strawberry.type(description="Result of `createAuditCheckpoint`.")
class CreateAuditCheckpointPayload:
    checkpoint: AuditCheckpoint | None = strawberry.field(description="The signed checkpoint.")
    user_errors: list[UserError] = strawberry.field(description="Why none was made, if so.")


@strawberry.type(description="Changes of conference IDs; each is audited and may send an email.")
class Mutation(BulkMutation):
    @strawberry.mutation(
        description="Sign the current head of the audit chain now (also done periodically, "
        "even when nothing changed). (admin)",
        extensions=requires(Capability.SIGN_CHECKPOINT),
    )
    async def create_audit_checkpoint(self, info: Info) -> CreateAuditCheckpointPayload:
        checkpoint = await info.context.services.audit.checkpoints.attempt()
        if not isinstance(checkpoint, Checkpoint):
            problem = (
                Problem(
                    UserErrorCode.SIGNING_DISABLED,
                    "No audit signing key is configured: set CONFID_SIGNING_KEY_FILE.",
                )
                if checkpoint is None
                else Problem(
                    UserErrorCode.TRAIL_INVALID,
                    f"Not signed: the trail does not verify at sequence "
                    f"{checkpoint.first_invalid_sequence} ({checkpoint.reason}).",
                )
            )
            return CreateAuditCheckpointPayload(checkpoint=None, user_errors=user_errors([problem]))
        return CreateAuditCheckpointPayload(
            checkpoint=AuditCheckpoint(_checkpoint=checkpoint), user_errors=[]
        )

    @strawberry.mutation(
        description="Enable a user for audio conferencing: assigns a generated conference ID "
        "and sends CONFERENCE_INFO. (admin, helpdesk)",
        extensions=requires(Capability.MANAGE_IDS),
    )
    async def enable_audio_conferencing(
        self,
        info: Info,
        input: Annotated[
            EnableAudioConferencingInput, strawberry.argument(description="What to do.")
        ],
    ) -> EnableAudioConferencingPayload:
        ctx = info.context
        outcome = await _shielded(
            ctx.services.changes.enable(
                ctx.request_meta(),
                require_id(input.user_id, "User", "input.userId"),
                require_id(input.bridge_id, "Bridge", "input.bridgeId")
                if input.bridge_id is not None
                else None,
                input.send_email,
                input.idempotency_key,
            )
        )
        return EnableAudioConferencingPayload(_outcome=outcome)

    @strawberry.mutation(
        description="Set a hand-picked conference ID. The old ID is retired at once and "
        "never reused; CONFERENCE_ID_CHANGED is sent. (admin)",
        extensions=requires(Capability.CHOOSE_ID),
    )
    async def set_conference_id(
        self,
        info: Info,
        input: Annotated[SetConferenceIdInput, strawberry.argument(description="What to do.")],
    ) -> SetConferenceIdPayload:
        ctx = info.context
        outcome = await _shielded(
            ctx.services.changes.set(
                ctx.request_meta(),
                require_id(input.user_id, "User", "input.userId"),
                input.conference_id,
                input.reason,
                input.send_email,
                input.idempotency_key,
            )
        )
        return SetConferenceIdPayload(_outcome=outcome)

    @strawberry.mutation(
        description="Reset to a fresh generated conference ID. The old ID is retired at once "
        "and never reused; CONFERENCE_ID_CHANGED is sent. (admin, helpdesk)",
        extensions=requires(Capability.MANAGE_IDS),
    )
    async def reset_conference_id(
        self,
        info: Info,
        input: Annotated[ResetConferenceIdInput, strawberry.argument(description="What to do.")],
    ) -> ResetConferenceIdPayload:
        ctx = info.context
        outcome = await _shielded(
            ctx.services.changes.reset(
                ctx.request_meta(),
                require_id(input.user_id, "User", "input.userId"),
                input.reason,
                input.send_email,
                input.idempotency_key,
            )
        )
        return ResetConferenceIdPayload(_outcome=outcome)

    @strawberry.mutation(
        description="Email the user's conference ID and dial-in numbers, to their primary "
        "address or to `toAddress`. (admin, helpdesk)",
        extensions=requires(Capability.MANAGE_IDS),
    )
    async def send_conference_info(
        self,
        info: Info,
        input: Annotated[SendConferenceInfoInput, strawberry.argument(description="What to do.")],
    ) -> SendConferenceInfoPayload:
        ctx = info.context
        outcome = await _shielded(
            ctx.services.changes.send_info(
                ctx.request_meta(),
                require_id(input.user_id, "User", "input.userId"),
                input.to_address,
                input.idempotency_key,
            )
        )
        return SendConferenceInfoPayload(_outcome=outcome)

    @strawberry.mutation(
        description="Send a FAILED email again, to the same recipient, as a new notification "
        "linked to the old one (`resendOf`; the old one stays FAILED). It carries the user's "
        "current conference ID and dial-in numbers (CONFERENCE_INFO) and a new Message-ID, "
        "and is audited like `sendConferenceInfo` (a SEND_INFO entry). Name the email "
        "either as `id` or as `input.notificationId` (with an idempotency key). (admin)",
        extensions=requires(Capability.RESEND_EMAIL),
    )
    async def resend_notification(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The FAILED notification to send again."),
        ] = None,
        input: Annotated[
            ResendNotificationInput | None,
            strawberry.argument(description="The same, with an idempotency key."),
        ] = None,
    ) -> ResendNotificationPayload:
        ctx = info.context
        if id is not None and input is None:
            note_id, key = require_id(id, "Notification", "id"), None
        elif input is not None and id is None:
            note_id = require_id(input.notification_id, "Notification", "input.notificationId")
            key = input.idempotency_key
        else:
            raise BadRequest("Pass exactly one of `id` and `input`.")
        outcome = await _shielded(ctx.services.resend.resend(ctx.request_meta(), note_id, key))
        return ResendNotificationPayload(_outcome=outcome)

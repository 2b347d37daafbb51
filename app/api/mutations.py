"""The Mutation root: each takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from app.api.context import Context, Info
from app.api.ids import decode_id
from app.api.resend import ResendNotificationInput, ResendNotificationPayload
from app.api.trail import AuditCheckpoint
from app.api.types import AuditEvent, Notification, User, UserError, user_errors
from app.domain.access import Capability
from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction
from app.services.changes import ChangeOutcome
from app.services.idempotency import fingerprint


@strawberry.input(description="Enable a user for audio conferencing.")
class EnableAudioConferencingInput:
    user_id: strawberry.ID = strawberry.field(description="The user to enable.")
    bridge_id: strawberry.ID | None = strawberry.field(
        default=None, description="The bridge; defaults to the default bridge."
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_INFO email; defaults to the tenant setting.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended change: a retry "
        "with the same key returns the first result and changes nothing more; the same key "
        "with a different input is refused (IDEMPOTENCY_KEY_REUSED). Remembered for 24 hours.",
    )


@strawberry.input(description="Give a user a hand-picked conference ID (admins only).")
class SetConferenceIdInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    conference_id: str = strawberry.field(
        description="The new ID: exactly the bridge's length in ASCII digits, not weak."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why (at most 500 characters); kept in the audit trail."
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_ID_CHANGED email; defaults to the tenant setting.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended change: a retry "
        "with the same key returns the first result and changes nothing more; the same key "
        "with a different input is refused (IDEMPOTENCY_KEY_REUSED). Remembered for 24 hours.",
    )


@strawberry.input(description="Replace a user's conference ID with a fresh generated one.")
class ResetConferenceIdInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    reason: str | None = strawberry.field(
        default=None, description="Why (at most 500 characters); kept in the audit trail."
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send the CONFERENCE_ID_CHANGED email; defaults to the tenant setting.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended change: a retry "
        "with the same key returns the first result and changes nothing more; the same key "
        "with a different input is refused (IDEMPOTENCY_KEY_REUSED). Remembered for 24 hours.",
    )


@strawberry.input(description="Email a user's conference ID and dial-in numbers.")
class SendConferenceInfoInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    to_address: str | None = strawberry.field(
        default=None,
        description="Another address to send to (at most 254 characters); flagged as not "
        "the primary address.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended change: a retry "
        "with the same key returns the first result and changes nothing more; the same key "
        "with a different input is refused (IDEMPOTENCY_KEY_REUSED). Remembered for 24 hours.",
    )


@strawberry.type(description="Result of `enableAudioConferencing`.")
class EnableAudioConferencingPayload:
    user: User | None = strawberry.field(description="The user, as it is now.")
    audit_event: AuditEvent | None = strawberry.field(description="The audit entry written.")
    notification: Notification | None = strawberry.field(description="The email recorded.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of `setConferenceId`.")
class SetConferenceIdPayload:
    user: User | None = strawberry.field(description="The user, as it is now.")
    audit_event: AuditEvent | None = strawberry.field(description="The audit entry written.")
    notification: Notification | None = strawberry.field(description="The email recorded.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of `resetConferenceId`.")
class ResetConferenceIdPayload:
    user: User | None = strawberry.field(description="The user, as it is now.")
    audit_event: AuditEvent | None = strawberry.field(description="The audit entry written.")
    notification: Notification | None = strawberry.field(description="The email recorded.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of `sendConferenceInfo`.")
class SendConferenceInfoPayload:
    notification: Notification | None = strawberry.field(description="The email recorded.")
    audit_event: AuditEvent | None = strawberry.field(description="The audit entry written.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


async def _once(
    ctx: Context,
    action: AuditAction,
    user_id: str | None,
    key: str | None,
    digest: str,
    start: Callable[[str], Awaitable[ChangeOutcome]],
) -> ChangeOutcome:
    """Run a change (at most once per idempotency key), shielded from client disconnects
    so it is never abandoned halfway."""
    run = ctx.services.idempotency.run(ctx.request_meta(), action, user_id, key, digest, start)
    return await asyncio.shield(run)


def _parts(
    outcome: ChangeOutcome,
) -> tuple[User | None, AuditEvent | None, Notification | None, list[UserError]]:
    return (
        User(_user=outcome.user) if outcome.user else None,
        AuditEvent.of(outcome.audit_event) if outcome.audit_event else None,
        Notification(_note=outcome.notification) if outcome.notification else None,
        user_errors(outcome.problems),
    )


@strawberry.type(description="Result of `createAuditCheckpoint`.")
class CreateAuditCheckpointPayload:
    checkpoint: AuditCheckpoint | None = strawberry.field(description="The signed checkpoint.")
    user_errors: list[UserError] = strawberry.field(description="Why none was made, if so.")


@strawberry.type(description="Changes of conference IDs; each is audited and may send an email.")
class Mutation:
    @strawberry.mutation(
        description="Sign the current head of the audit chain now (also done periodically, "
        "even when nothing changed). (admin)"
    )
    async def create_audit_checkpoint(self, info: Info) -> CreateAuditCheckpointPayload:
        ctx = info.context
        ctx.require(Capability.SIGN_CHECKPOINT)
        checkpoint = await ctx.services.audit.checkpoints.create()
        if checkpoint is None:
            problem = Problem(
                UserErrorCode.SIGNING_DISABLED,
                "No audit signing key is configured: set CONFID_SIGNING_KEY_FILE.",
            )
            return CreateAuditCheckpointPayload(checkpoint=None, user_errors=user_errors([problem]))
        return CreateAuditCheckpointPayload(
            checkpoint=AuditCheckpoint(_checkpoint=checkpoint), user_errors=[]
        )

    @strawberry.mutation(
        description="Enable a user for audio conferencing: assigns a generated conference ID "
        "and sends CONFERENCE_INFO. (admin, helpdesk)"
    )
    async def enable_audio_conferencing(
        self,
        info: Info,
        input: Annotated[
            EnableAudioConferencingInput, strawberry.argument(description="What to do.")
        ],
    ) -> EnableAudioConferencingPayload:
        ctx = info.context
        ctx.require(Capability.MANAGE_IDS)
        meta, user_id = ctx.request_meta(), decode_id(input.user_id, "User")
        # An id that is not a Bridge id names no bridge: NOT_FOUND, not the default.
        bridge = (
            (decode_id(input.bridge_id, "Bridge") or "") if input.bridge_id is not None else None
        )
        outcome = await _once(
            ctx, AuditAction.ASSIGN, user_id, input.idempotency_key,
            fingerprint("enableAudioConferencing", [input.user_id, input.bridge_id,
                                                    input.send_email]),
            lambda op: ctx.services.changes.enable(meta, user_id, bridge, input.send_email, op=op),
        )  # fmt: skip
        user, event, note, errors = _parts(outcome)
        return EnableAudioConferencingPayload(
            user=user, audit_event=event, notification=note, user_errors=errors
        )

    @strawberry.mutation(
        description="Set a hand-picked conference ID. The old ID is retired at once and "
        "never reused; CONFERENCE_ID_CHANGED is sent. (admin)"
    )
    async def set_conference_id(
        self,
        info: Info,
        input: Annotated[SetConferenceIdInput, strawberry.argument(description="What to do.")],
    ) -> SetConferenceIdPayload:
        ctx = info.context
        ctx.require(Capability.CHOOSE_ID)
        meta, user_id = ctx.request_meta(), decode_id(input.user_id, "User")
        outcome = await _once(
            ctx, AuditAction.SET, user_id, input.idempotency_key,
            fingerprint("setConferenceId", [input.user_id, input.conference_id, input.reason,
                                            input.send_email]),
            lambda op: ctx.services.changes.set(
                meta, user_id, input.conference_id, input.reason, input.send_email, op=op
            ),
        )  # fmt: skip
        user, event, note, errors = _parts(outcome)
        return SetConferenceIdPayload(
            user=user, audit_event=event, notification=note, user_errors=errors
        )

    @strawberry.mutation(
        description="Reset to a fresh generated conference ID. The old ID is retired at once "
        "and never reused; CONFERENCE_ID_CHANGED is sent. (admin, helpdesk)"
    )
    async def reset_conference_id(
        self,
        info: Info,
        input: Annotated[ResetConferenceIdInput, strawberry.argument(description="What to do.")],
    ) -> ResetConferenceIdPayload:
        ctx = info.context
        ctx.require(Capability.MANAGE_IDS)
        meta, user_id = ctx.request_meta(), decode_id(input.user_id, "User")
        outcome = await _once(
            ctx, AuditAction.RESET, user_id, input.idempotency_key,
            fingerprint("resetConferenceId", [input.user_id, input.reason, input.send_email]),
            lambda op: ctx.services.changes.reset(
                meta, user_id, input.reason, input.send_email, op=op
            ),
        )  # fmt: skip
        user, event, note, errors = _parts(outcome)
        return ResetConferenceIdPayload(
            user=user, audit_event=event, notification=note, user_errors=errors
        )

    @strawberry.mutation(
        description="Email the user's conference ID and dial-in numbers, to their primary "
        "address or to `toAddress`. (admin, helpdesk)"
    )
    async def send_conference_info(
        self,
        info: Info,
        input: Annotated[SendConferenceInfoInput, strawberry.argument(description="What to do.")],
    ) -> SendConferenceInfoPayload:
        ctx = info.context
        ctx.require(Capability.MANAGE_IDS)
        meta, user_id = ctx.request_meta(), decode_id(input.user_id, "User")
        outcome = await _once(
            ctx, AuditAction.SEND_INFO, user_id, input.idempotency_key,
            fingerprint("sendConferenceInfo", [input.user_id, input.to_address]),
            lambda op: ctx.services.changes.send_info(meta, user_id, input.to_address, op=op),
        )  # fmt: skip
        _, event, note, errors = _parts(outcome)
        return SendConferenceInfoPayload(notification=note, audit_event=event, user_errors=errors)

    @strawberry.mutation(
        description="Send a FAILED email again, to the same recipient, as a new notification "
        "linked to the old one (`resendOf`; the old one stays FAILED). It carries the user's "
        "current conference ID and dial-in numbers (CONFERENCE_INFO) and a new Message-ID, "
        "and is audited like `sendConferenceInfo` (a SEND_INFO entry). (admin)"
    )
    async def resend_notification(
        self,
        info: Info,
        input: Annotated[ResendNotificationInput, strawberry.argument(description="What to do.")],
    ) -> ResendNotificationPayload:
        ctx = info.context
        ctx.require(Capability.RESEND_EMAIL)
        meta = ctx.request_meta()
        note_id = decode_id(input.notification_id, "Notification")
        resend = ctx.services.resend
        outcome = await _once(
            ctx, AuditAction.SEND_INFO, await resend.user_of(note_id), input.idempotency_key,
            fingerprint("resendNotification", [input.notification_id]),
            lambda op: resend.resend(meta, note_id, op=op),
        )  # fmt: skip
        _, event, note, errors = _parts(outcome)
        return ResendNotificationPayload(notification=note, audit_event=event, user_errors=errors)

"""The Mutation root: each takes one `input` and returns a payload with `userErrors`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from app.api.context import Info
from app.api.ids import decode_id
from app.api.types import AuditEvent, Notification, User, UserError, user_errors
from app.domain.access import Capability
from app.services.changes import ChangeOutcome


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


@strawberry.input(description="Email a user's conference ID and dial-in numbers.")
class SendConferenceInfoInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    to_address: str | None = strawberry.field(
        default=None,
        description="Another address to send to (at most 254 characters); flagged as not "
        "the primary address.",
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


async def _run(change: Awaitable[ChangeOutcome]) -> ChangeOutcome:
    """Shield a change from client disconnects, so it is never abandoned halfway."""
    return await asyncio.shield(change)


def _parts(
    outcome: ChangeOutcome,
) -> tuple[User | None, AuditEvent | None, Notification | None, list[UserError]]:
    return (
        User(_user=outcome.user) if outcome.user else None,
        AuditEvent(_entry=outcome.audit_event) if outcome.audit_event else None,
        Notification(_note=outcome.notification) if outcome.notification else None,
        user_errors(outcome.problems),
    )


@strawberry.type(description="Changes of conference IDs; each is audited and may send an email.")
class Mutation:
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
        outcome = await _run(
            ctx.services.changes.enable(
                ctx.request_meta(),
                decode_id(input.user_id, "User"),
                # An id that is not a Bridge id names no bridge: NOT_FOUND, not the default.
                (decode_id(input.bridge_id, "Bridge") or "")
                if input.bridge_id is not None
                else None,
                input.send_email,
            )
        )
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
        outcome = await _run(
            ctx.services.changes.set(
                ctx.request_meta(),
                decode_id(input.user_id, "User"),
                input.conference_id,
                input.reason,
                input.send_email,
            )
        )
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
        outcome = await _run(
            ctx.services.changes.reset(
                ctx.request_meta(), decode_id(input.user_id, "User"), input.reason, input.send_email
            )
        )
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
        outcome = await _run(
            ctx.services.changes.send_info(
                ctx.request_meta(), decode_id(input.user_id, "User"), input.to_address
            )
        )
        _, event, note, errors = _parts(outcome)
        return SendConferenceInfoPayload(notification=note, audit_event=event, user_errors=errors)

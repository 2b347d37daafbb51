"""Small result types: user errors, the dry-run check, a verification, the viewer."""

from __future__ import annotations

import strawberry

from app.api import enums
from app.domain.errors import Problem
from app.domain.verifier import ChainVerification


@strawberry.type(description="Why a request was refused, addressed to the input field at fault.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input field at fault, e.g. [`input`, `conferenceId`]."
    )
    message: str = strawberry.field(description="What is wrong, in words for a person.")
    code: enums.UserErrorCode = strawberry.field(description="Machine-readable reason.")
    rule: str | None = strawberry.field(
        description="For WEAK_PATTERN: SINGLE_DIGIT, RUN_OF_FIVE, SEQUENCE or REPEATED_GROUP."
    )


def user_errors(problems: list[Problem], prefix: tuple[str, ...] = ()) -> list[UserError]:
    """Domain problems as `UserError`s; `prefix` is the path of the argument that holds the
    fields (`input` for mutations, nothing for `checkConferenceId`'s own arguments)."""
    return [
        UserError(
            field=[*prefix, *p.field] if p.field else None,
            message=p.message,
            code=p.code,
            rule=p.rule,
        )
        for p in problems
    ]


@strawberry.type(description="Result of a dry run of `setConferenceId`'s policy.")
class ConferenceIdCheck:
    valid: bool = strawberry.field(description="True when `setConferenceId` would accept it.")
    errors: list[UserError] = strawberry.field(description="Every rule it breaks.")


@strawberry.type(description="Result of recomputing the audit hash chain.")
class AuditVerification:
    ok: bool = strawberry.field(description="True when every entry verified.")
    checked: int = strawberry.field(description="How many entries verified.")
    first_invalid_sequence: int | None = strawberry.field(
        description="The first sequence that does not verify (missing, edited, relinked)."
    )
    reason: str | None = strawberry.field(description="Why that entry does not verify.")
    head_hash: str | None = strawberry.field(
        description="Hash of the last entry when the chain verified: keep it to compare later."
    )
    checkpoints_checked: int = strawberry.field(
        description="How many signed checkpoints agreed with the trail."
    )
    signatures_checked: int = strawberry.field(
        default=0,
        description="How many entries' own Ed25519 signatures were checked (those no "
        "checkpoint vouches for; all of them with `everySignature`).",
    )


@strawberry.type(description="The caller, as the token identifies them.")
class Viewer:
    name: str = strawberry.field(
        description="The token's name, or the signed-in person's username (recorded as the actor)."
    )
    role: enums.ActorRole = strawberry.field(description="The token's role.")
    issuer: str | None = strawberry.field(
        default=None,
        description=(
            "The OpenID provider that signed the person in (`iss`); null for a static token."
        ),
    )
    subject: str | None = strawberry.field(
        default=None,
        description=("The person's stable id at that provider (`sub`); null for a static token."),
    )
    display_name: str | None = strawberry.field(
        default=None, description="The person's name as the provider gives it (`name`), if any."
    )


def verification(result: ChainVerification) -> AuditVerification:
    """The GraphQL view of a chain verification."""
    return AuditVerification(
        ok=result.ok,
        checked=result.checked,
        first_invalid_sequence=result.first_invalid_sequence,
        reason=result.reason,
        head_hash=result.head_hash,
        checkpoints_checked=result.checkpoints_checked,
        signatures_checked=result.signatures_checked,
    )

"""GraphQL enums, each value described; converted to and from the domain by value."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Why a mutation or a dry run was refused.")
class UserErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No such user or bridge.")
    NOT_ENABLED = strawberry.enum_value(
        "NOT_ENABLED", description="The user is not enabled for audio conferencing."
    )
    ALREADY_ENABLED = strawberry.enum_value(
        "ALREADY_ENABLED", description="The user is already enabled for audio conferencing."
    )
    INVALID_CHARACTERS = strawberry.enum_value(
        "INVALID_CHARACTERS", description="The ID has characters other than ASCII digits 0-9."
    )
    WRONG_LENGTH = strawberry.enum_value(
        "WRONG_LENGTH", description="The ID does not have exactly the bridge's length."
    )
    SAME_AS_CURRENT = strawberry.enum_value(
        "SAME_AS_CURRENT", description="The ID is already the user's current ID."
    )
    IN_USE = strawberry.enum_value("IN_USE", description="Another user holds the ID.")
    RETIRED = strawberry.enum_value(
        "RETIRED", description="The ID was retired and is quarantined (by default for ever)."
    )
    WEAK_PATTERN = strawberry.enum_value(
        "WEAK_PATTERN", description="The ID is guessable; `UserError.rule` names the rule."
    )
    INVALID_EMAIL = strawberry.enum_value(
        "INVALID_EMAIL", description="Not a usable email address (or over 254 characters)."
    )
    TOO_LONG = strawberry.enum_value(
        "TOO_LONG", description="A text input is over its documented bound."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="Another change of the same user did not finish in time."
    )
    IDEMPOTENCY_KEY_REUSED = strawberry.enum_value(
        "IDEMPOTENCY_KEY_REUSED",
        description="The idempotency key was already used with a different input.",
    )
    SIGNING_DISABLED = strawberry.enum_value(
        "SIGNING_DISABLED",
        description="No audit signing key is configured (CONFID_SIGNING_KEY_FILE).",
    )
    NOT_RESENDABLE = strawberry.enum_value(
        "NOT_RESENDABLE",
        description="Only a FAILED notification can be resent (`resendNotification`).",
    )


@strawberry.enum(description="What an audit entry records.")
class AuditAction(Enum):
    ASSIGN = strawberry.enum_value(
        "ASSIGN", description="An ID assigned on enabling audio conferencing."
    )
    SET = strawberry.enum_value("SET", description="A hand-picked ID set by an administrator.")
    RESET = strawberry.enum_value("RESET", description="An ID replaced by a generated one.")
    SEND_INFO = strawberry.enum_value("SEND_INFO", description="Conference info emailed on demand.")


@strawberry.enum(description="Whether the audited attempt changed anything.")
class AuditOutcome(Enum):
    SUCCESS = strawberry.enum_value("SUCCESS", description="The change was made.")
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Refused; `errorCodes` say why. Nothing changed."
    )


@strawberry.enum(description="Who acted: a token's role, or the system itself.")
class ActorRole(Enum):
    ADMIN = strawberry.enum_value("ADMIN", description="An administrator token.")
    HELPDESK = strawberry.enum_value("HELPDESK", description="A helpdesk token.")
    AUDITOR = strawberry.enum_value("AUDITOR", description="An auditor token (read-only).")
    SYSTEM = strawberry.enum_value("SYSTEM", description="confid itself: seeding, recovery.")


@strawberry.enum(description="The kinds of email confid sends.")
class NotificationKind(Enum):
    CONFERENCE_INFO = strawberry.enum_value(
        "CONFERENCE_INFO", description="The conference ID and dial-in numbers."
    )
    CONFERENCE_ID_CHANGED = strawberry.enum_value(
        "CONFERENCE_ID_CHANGED",
        description="The new ID after a set or reset, with advice to reschedule meetings.",
    )


@strawberry.enum(description="How far an email got; never claims more than happened.")
class NotificationStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Recorded, not yet handed over.")
    RECORDED = strawberry.enum_value(
        "RECORDED", description="No mail transport is configured: the record is the delivery."
    )
    RETRYING = strawberry.enum_value(
        "RETRYING",
        description="The mail server did not take it yet (connection refused, timeout before "
        "DATA, or a 4xx reply); it is tried again at `nextAttemptAt`, with exponential "
        "backoff, until it is SENT or its attempts run out (then FAILED).",
    )
    SENT = strawberry.enum_value("SENT", description="Accepted by the mail server (`sentAt`).")
    FAILED = strawberry.enum_value(
        "FAILED",
        description="Not delivered, and never tried again automatically: refused for good "
        '(a 5xx reply, in `error`), attempts exhausted, or "delivery unknown" (the '
        "connection broke after the message was sent, so it may have arrived). "
        "`resendNotification` sends it again, as a new notification.",
    )
    SUPPRESSED = strawberry.enum_value(
        "SUPPRESSED", description="Not sent: automatic emails are off, or `sendEmail: false`."
    )

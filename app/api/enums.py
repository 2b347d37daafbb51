"""GraphQL enums: the domain's own enums, each value described for GraphiQL's docs.

`graphql_enum` registers a domain enum with Strawberry and refuses one whose values are
not all described, so a new domain value cannot reach the API undocumented. Resolvers
return domain values as they are; there is no second copy to convert to and from.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry

from app.domain import bulk, models
from app.domain.errors import UserErrorCode

E = TypeVar("E", bound=Enum)


def graphql_enum(
    domain: type[E], description: str, values: Mapping[Any, str], name: str | None = None
) -> type[E]:
    """Expose a domain enum as a GraphQL enum named `name` (default: its own)."""
    missing = [member.name for member in domain if member not in values]
    if missing:
        raise TypeError(f"{domain.__name__} values without a description: {missing}")
    strawberry.enum(domain, name=name, description=description)
    definition: Any = domain.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[domain[value.name]]
    return domain


graphql_enum(
    UserErrorCode,
    "Why a mutation or a dry run was refused.",
    {
        UserErrorCode.NOT_FOUND: "No such user or bridge.",
        UserErrorCode.NOT_ENABLED: "The user is not enabled for audio conferencing.",
        UserErrorCode.ALREADY_ENABLED: "The user is already enabled for audio conferencing.",
        UserErrorCode.INVALID_CHARACTERS: "The ID has characters other than ASCII digits 0-9 "
        "(or a reason has control characters).",
        UserErrorCode.WRONG_LENGTH: "The ID does not have exactly the bridge's length.",
        UserErrorCode.SAME_AS_CURRENT: "The ID is already the user's current ID.",
        UserErrorCode.IN_USE: "Another user holds the ID.",
        UserErrorCode.RETIRED: "The ID was retired and is quarantined (by default for ever).",
        UserErrorCode.WEAK_PATTERN: "The ID is guessable; `UserError.rule` names the rule.",
        UserErrorCode.INVALID_EMAIL: "Not a usable email address (or over 254 characters).",
        UserErrorCode.TOO_LONG: "A text input is over its documented bound.",
        UserErrorCode.CONFLICT: "Another change of the same user did not finish in time.",
        UserErrorCode.IDEMPOTENCY_KEY_REUSED: "The idempotency key was already used with a "
        "different input.",
        UserErrorCode.SIGNING_DISABLED: "No audit signing key is configured "
        "(CONFID_SIGNING_KEY_FILE).",
        UserErrorCode.NOT_RESENDABLE: "Only a FAILED notification can be resent "
        "(`resendNotification`).",
        UserErrorCode.NOTHING_TO_RESET: "A bulk reset's selection names nobody who would be "
        "reset (empty, or every ID or user in it is skipped).",
        UserErrorCode.SELECTION_CHANGED: "A bulk reset's selection now reaches another "
        "number of users than `expectedCount` (the preview that was confirmed): preview again.",
        UserErrorCode.REASON_REQUIRED: "A bulk reset needs a reason (kept in every audit "
        "entry of the incident).",
        UserErrorCode.JOB_FINISHED: "The bulk reset job has already ended; it cannot be "
        "cancelled, and is never run again.",
        UserErrorCode.TRAIL_INVALID: "The entries a new checkpoint would vouch for do not "
        "verify (see `verifyAuditTrail`); no checkpoint was signed over them.",
    },
)

graphql_enum(
    models.AuditAction,
    "What an audit entry records.",
    {
        models.AuditAction.ASSIGN: "An ID assigned on enabling audio conferencing.",
        models.AuditAction.SET: "A hand-picked ID set by an administrator.",
        models.AuditAction.RESET: "An ID replaced by a generated one.",
        models.AuditAction.SEND_INFO: "Conference info emailed on demand.",
        models.AuditAction.BULK_RESET_STARTED: "A bulk reset job (an incident) was started: "
        "its reason, and in `summary` how many users it will reset and skip (REJECTED: the "
        "start was refused). Each reset of the job is a RESET entry with the same "
        "`incidentId`.",
        models.AuditAction.BULK_RESET_FINISHED: "A bulk reset job ended: in `summary` its end "
        "status (SUCCEEDED, FAILED or CANCELLED) and final counts.",
    },
)

graphql_enum(
    models.AuditOutcome,
    "Whether the audited attempt changed anything.",
    {
        models.AuditOutcome.SUCCESS: "The change was made.",
        models.AuditOutcome.REJECTED: "Refused; `errorCodes` say why. Nothing changed.",
    },
)

graphql_enum(
    models.Role,
    "Who acted: a token's role, or the system itself.",
    {
        models.Role.ADMIN: "An administrator token.",
        models.Role.HELPDESK: "A helpdesk token.",
        models.Role.AUDITOR: "An auditor token (read-only).",
        models.Role.SYSTEM: "confid itself: seeding, recovery.",
    },
    name="ActorRole",
)

graphql_enum(
    models.NotificationKind,
    "The kinds of email confid sends.",
    {
        models.NotificationKind.CONFERENCE_INFO: "The conference ID and dial-in numbers.",
        models.NotificationKind.CONFERENCE_ID_CHANGED: "The new ID after a set or reset, with "
        "advice to reschedule meetings.",
    },
)

graphql_enum(
    models.NotificationStatus,
    "How far an email got; never claims more than happened.",
    {
        models.NotificationStatus.PENDING: "Recorded, not yet handed over.",
        models.NotificationStatus.RECORDED: "No mail transport is configured: the record is "
        "the delivery.",
        models.NotificationStatus.RETRYING: "The mail server did not take it yet (connection "
        "refused, timeout before DATA, or a 4xx reply); it is tried again at `nextAttemptAt`, "
        "with exponential backoff, until it is SENT or its attempts run out (then FAILED).",
        models.NotificationStatus.SENT: "Accepted by the mail server (`sentAt`).",
        models.NotificationStatus.FAILED: "Not delivered, and never tried again automatically: "
        'refused for good (a 5xx reply, in `error`), attempts exhausted, or "delivery '
        'unknown" (the connection broke after the message was sent, so it may have arrived). '
        "`resendNotification` sends it again, as a new notification.",
        models.NotificationStatus.SUPPRESSED: "Not sent: automatic emails are off, or "
        "`sendEmail: false`.",
    },
)

# --- bulk resets -----------------------------------------------------------------------

graphql_enum(
    bulk.JobStatus,
    "Where a bulk reset job is in its life.",
    {
        bulk.JobStatus.QUEUED: "Accepted; no worker has begun it yet.",
        bulk.JobStatus.RUNNING: "A worker is resetting its users (or will resume it: a job "
        "whose process stopped is taken over once its lease expires).",
        bulk.JobStatus.SUCCEEDED: "Every selected user was worked through; `failed` counts "
        "those whose reset was refused.",
        bulk.JobStatus.FAILED: "Stopped by an unexpected error (`error` says where); the "
        "users not reached were not reset (their results are NOT_RUN).",
        bulk.JobStatus.CANCELLED: "Stopped by `cancelBulkReset` between two users; the users "
        "not reached were not reset (their results are NOT_RUN).",
    },
    name="BulkResetStatus",
)

graphql_enum(
    bulk.SkipReason,
    "Why a selected conference ID or user is not reset.",
    {
        bulk.SkipReason.NOT_ENABLED: "The user is not enabled for audio conferencing: there is "
        "no conference ID to reset.",
        bulk.SkipReason.UNKNOWN_ID: "No user holds this conference ID, and it was never "
        "assigned on any bridge.",
        bulk.SkipReason.UNKNOWN_USER: "No user has this email address or id.",
        bulk.SkipReason.ALREADY_RETIRED: "The conference ID is already retired: it reaches "
        "nobody any more (its last holder, in `user`, has another ID now).",
    },
    name="BulkResetSkipReason",
)

graphql_enum(
    bulk.ItemOutcome,
    "What happened to one line of a bulk reset.",
    {
        bulk.ItemOutcome.PENDING: "Not reached yet (the job is queued or running).",
        bulk.ItemOutcome.RESET: "The user's conference ID was reset (a RESET entry with the "
        "job's incident id).",
        bulk.ItemOutcome.SKIPPED: "Skipped when the job was started; `skipReason` says why.",
        bulk.ItemOutcome.FAILED: "The reset was refused (a REJECTED entry); `errorCodes` say why.",
        bulk.ItemOutcome.NOT_RUN: "The job ended — cancelled or failed — before it reached this "
        "user: nothing was changed.",
    },
    name="BulkResetOutcome",
)

# The names the API's modules use.
AuditAction = models.AuditAction
AuditOutcome = models.AuditOutcome
ActorRole = models.Role
NotificationKind = models.NotificationKind
NotificationStatus = models.NotificationStatus
BulkResetStatus = bulk.JobStatus
BulkResetSkipReason = bulk.SkipReason
BulkResetOutcome = bulk.ItemOutcome
__all__ = [
    "ActorRole",
    "AuditAction",
    "AuditOutcome",
    "BulkResetOutcome",
    "BulkResetSkipReason",
    "BulkResetStatus",
    "NotificationKind",
    "NotificationStatus",
    "UserErrorCode",
    "graphql_enum",
]

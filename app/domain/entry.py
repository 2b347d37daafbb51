"""The one definition of an audit entry: its fields, their order and how each is encoded.

Hashing, the stored document, the GraphQL type, both export formats, the offline verifier
and the evidence pack all read `FIELDS`; none lists an entry's fields again. Adding a field
means adding one `EntryField` here (with `since` set to the new encoding version), and
every user of the definition follows.

Encoding versions (see docs/export-format.md):
  1  every field below without `since` is always present, `null` when absent.
  2  fields with `since=2` appear only when they have a value, so an entry written before
     they existed encodes, and hashes, exactly as before.
  3  the actor's identity keys (`ACTOR`: issuer, subject, displayName of a person signed in
     through OpenID Connect) appear only when known, by the same rule: the actor of a static
     token or of the system encodes as `{"name","role"}`, as it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from app.domain.errors import UserErrorCode
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta

ENCODING_VERSION = 3


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the append-only audit chain."""

    sequence: int
    occurred_at: datetime
    action: AuditAction
    outcome: AuditOutcome
    error_codes: tuple[UserErrorCode, ...]
    user_id: str | None
    bridge_id: str | None
    previous_conference_id: str | None
    new_conference_id: str | None
    actor: Actor
    source_ip: str | None
    user_agent: str | None
    request_id: str | None
    reason: str | None
    recipients: tuple[str, ...]
    to_non_primary: bool
    operation_id: str
    previous_hash: str
    hash: str
    key_id: str | None = None  # the signing key (hashed with the entry)
    signature: str | None = None  # Ed25519 over the hash (base64); None when unsigned
    client_request_id: str | None = None  # the client's own X-Request-Id (since encoding 2)
    incident_id: str | None = None  # the bulk reset job it belongs to (since encoding 2)
    summary: str | None = None  # a bulk reset's status and counts (since encoding 2)


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An audit entry before it has a place in the chain."""

    occurred_at: datetime
    action: AuditAction
    outcome: AuditOutcome
    error_codes: tuple[UserErrorCode, ...]
    user_id: str | None
    bridge_id: str | None
    previous_conference_id: str | None
    new_conference_id: str | None
    meta: RequestMeta
    reason: str | None
    recipients: tuple[str, ...]
    to_non_primary: bool
    operation_id: str
    incident_id: str | None = None
    summary: str | None = None


class Kind(Enum):
    """How a field's value is written: in the canonical JSON, records and CSV cells."""

    INT = "int"
    TIME = "time"  # ISO-8601 UTC with milliseconds and Z
    ENUM = "enum"
    ENUM_LIST = "enum list"
    TEXT = "text"  # always present
    OPTIONAL_TEXT = "optional text"  # null (encoding 1) or omitted (since 2) when absent
    TEXT_LIST = "text list"
    BOOL = "bool"
    ACTOR = "actor"  # {"name", "role"} and, when known, the optional identity keys


@dataclass(frozen=True, slots=True)
class EntryField:
    """One field of an audit entry, as every reader and writer of entries sees it."""

    name: str  # the key in the canonical JSON, the export and the stored document
    attribute: str  # the AuditEntry attribute
    kind: Kind
    description: str  # what the field means (GraphQL, docs)
    hashed: bool = True
    since: int = 1  # encoding version that introduced it; from 2 on, omitted when absent
    enum: type[Enum] | None = None


FIELDS: tuple[EntryField, ...] = (
    EntryField("sequence", "sequence", Kind.INT,
               "Gapless position in the trail: 1, 2, 3, ... in append order."),
    EntryField("occurredAt", "occurred_at", Kind.TIME, "When the entry was appended (server UTC)."),
    EntryField("action", "action", Kind.ENUM, "What was done or attempted.", enum=AuditAction),
    EntryField("outcome", "outcome", Kind.ENUM, "SUCCESS, or REJECTED with `errorCodes`.",
               enum=AuditOutcome),
    EntryField("errorCodes", "error_codes", Kind.ENUM_LIST,
               "Why the attempt was refused; empty on success.", enum=UserErrorCode),
    EntryField("userId", "user_id", Kind.OPTIONAL_TEXT,
               "The target user's stored id as recorded (also for ids that named nobody)."),
    EntryField("bridgeId", "bridge_id", Kind.OPTIONAL_TEXT, "The bridge of the conference ID."),
    EntryField("previousConferenceId", "previous_conference_id", Kind.OPTIONAL_TEXT,
               "The user's conference ID before the change (on a refusal: the ID at the time)."),
    EntryField("newConferenceId", "new_conference_id", Kind.OPTIONAL_TEXT,
               "The ID after the change; SEND_INFO: the ID the email carries; on a refused SET, "
               "the ID that was attempted."),
    EntryField("actor", "actor", Kind.ACTOR,
               "Who acted: a static token's name and role, a person signed in through OpenID "
               "Connect (username, role, issuer, subject and display name), or system."),
    EntryField("sourceIp", "source_ip", Kind.OPTIONAL_TEXT,
               "The client's IP address: the TCP peer, or the forwarded client address when "
               "the peer is a trusted proxy (CONFID_TRUSTED_PROXIES)."),
    EntryField("userAgent", "user_agent", Kind.OPTIONAL_TEXT, "The client's User-Agent header."),
    EntryField("requestId", "request_id", Kind.OPTIONAL_TEXT,
               "confid's own id of the request (also in the X-Request-Id response header)."),
    EntryField("reason", "reason", Kind.OPTIONAL_TEXT,
               "The free-text reason given with the change."),
    EntryField("recipients", "recipients", Kind.TEXT_LIST,
               "SEND_INFO: the addresses the email went to; none on a refusal (no email "
               "went anywhere)."),
    EntryField("toNonPrimary", "to_non_primary", Kind.BOOL,
               "SEND_INFO: true when a recipient is not the user's primary address."),
    EntryField("operationId", "operation_id", Kind.TEXT,
               "The operation that wrote the entry (one entry per operation)."),
    EntryField("previousHash", "previous_hash", Kind.TEXT,
               "Hash of the previous entry (64 zeros for the first)."),
    EntryField("keyId", "key_id", Kind.OPTIONAL_TEXT,
               "Id of the Ed25519 key that signed the hash (see auditSigningKey)."),
    EntryField("clientRequestId", "client_request_id", Kind.OPTIONAL_TEXT,
               "The client's own X-Request-Id, when it sent a valid one (kept beside confid's).",
               since=2),
    EntryField("incidentId", "incident_id", Kind.OPTIONAL_TEXT,
               "The incident this entry belongs to: a bulk reset job's id for incidents "
               "(`BulkResetJob.incidentId`), on each of its resets and refusals and on its "
               "BULK_RESET_STARTED and BULK_RESET_FINISHED entries; absent otherwise.",
               since=2),
    EntryField("summary", "summary", Kind.OPTIONAL_TEXT,
               "BULK_RESET_STARTED and BULK_RESET_FINISHED: the job's status and counts, e.g. "
               "`SUCCEEDED total=48 reset=47 failed=1 skipped=2 notRun=0`; absent otherwise.",
               since=2),
    EntryField("hash", "hash", Kind.TEXT,
               "SHA-256 (hex) over the canonical encoding of every other field.", hashed=False),
    EntryField("signature", "signature", Kind.OPTIONAL_TEXT,
               "Ed25519 signature of `hash` (base64); null when unsigned.", hashed=False),
)  # fmt: skip

BY_NAME: Mapping[str, EntryField] = {f.name: f for f in FIELDS}
HASHED: tuple[EntryField, ...] = tuple(f for f in FIELDS if f.hashed)


@dataclass(frozen=True, slots=True)
class ActorKey:
    """One key of the actor object, as every reader and writer of entries sees it."""

    name: str  # the key in the actor object (canonical JSON, export, stored document)
    attribute: str  # the Actor attribute
    description: str  # what it means (GraphQL, docs)
    since: int = 1  # encoding version that introduced it; from 3 on, omitted when absent


# The actor's keys: name and role always; the identity keys only when known.
ACTOR: tuple[ActorKey, ...] = (
    ActorKey("name", "name",
             "A static token's name from the tokens file; for a person signed in through "
             "OpenID Connect, their username (the claim CONFID_OIDC_USERNAME_CLAIM names, by "
             "default preferred_username, upn, email or unique_name, else the subject); "
             "`system` for confid itself."),
    ActorKey("role", "role", "The caller's role (from the tokens file or the token's claims), "
             "or SYSTEM."),
    ActorKey("issuer", "issuer",
             "The OpenID Connect issuer (`iss`) that vouched for the person; null for static "
             "tokens and the system.", since=3),
    ActorKey("subject", "subject",
             "The person's stable, unique id at that issuer (`sub`), which survives a change "
             "of username; null for static tokens and the system.", since=3),
    ActorKey("displayName", "display_name",
             "The person's name as the token gave it (`name` claim), when it had one.",
             since=3),
)  # fmt: skip
ACTOR_KEYS = tuple(key.name for key in ACTOR)
ACTOR_IDENTITY = tuple(key for key in ACTOR if key.since > 1)


def describe(name: str) -> str:
    """The description of a field, by its name."""
    return BY_NAME[name].description


def describe_actor(name: str) -> str:
    """The description of an actor key, by its name."""
    return next(key.description for key in ACTOR if key.name == name)

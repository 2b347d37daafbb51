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

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from json.encoder import encode_basestring
from typing import Any

from app.domain.errors import UserErrorCode
from app.domain.instants import iso_millis, to_millis_utc
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta, Role

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
               "SEND_INFO: the addresses the email went to; on a refusal, only the other "
               "address the caller asked for, if any (no email went anywhere)."),
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
               "`SUCCEEDED total=48 reset=47 failed=1 skipped=2`; absent otherwise.",
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
_ACTOR_IDENTITY = tuple(key for key in ACTOR if key.since > 1)


def describe(name: str) -> str:
    """The description of a field, by its name."""
    return BY_NAME[name].description


def describe_actor(name: str) -> str:
    """The description of an actor key, by its name."""
    return next(key.description for key in ACTOR if key.name == name)


# --- values: an entry's fields as JSON values (records) and back ------------------------


def json_value(field: EntryField, entry: AuditEntry) -> Any:
    """The field's value in the entry as a JSON value (times as ISO text, enums by value)."""
    raw = getattr(entry, field.attribute)
    kind = field.kind
    if kind is Kind.TIME:
        return iso_millis(raw)
    if kind is Kind.ENUM:
        return raw.value
    if kind is Kind.ENUM_LIST:
        return [item.value for item in raw]
    if kind is Kind.TEXT_LIST:
        return list(raw)
    if kind is Kind.ACTOR:
        return actor_record(raw)
    return raw


def actor_record(actor: Actor) -> dict[str, Any]:
    """The actor as a JSON object: name and role, then the identity keys that are known."""
    out: dict[str, Any] = {"name": actor.name, "role": actor.role.value}
    for key in _ACTOR_IDENTITY:
        value = getattr(actor, key.attribute)
        if value is not None:
            out[key.name] = value
    return out


def actor_from(value: Any) -> Actor:
    """An actor from its JSON object; strict (an identity key is a string or absent, never
    null, so that no key can be added to an entry without changing its hash)."""
    if not isinstance(value, dict) or set(value) - set(ACTOR_KEYS):
        raise ValueError(f"not an actor object: {value!r}")
    name, role = value.get("name"), value.get("role")
    if not isinstance(name, str):
        raise ValueError("the actor has no name")
    identity: dict[str, str] = {}
    for key in _ACTOR_IDENTITY:
        if key.name in value:
            if not isinstance(value[key.name], str):
                raise ValueError(f"the actor's {key.name} is not a string")
            identity[key.attribute] = value[key.name]
    return Actor(name, Role(role), **identity)


def _omitted(field: EntryField, value: Any) -> bool:
    return field.since > 1 and value is None


def record(entry: AuditEntry, *, hashed_only: bool = False) -> dict[str, Any]:
    """The entry as a JSON object, in field order: what the export writes and, without
    `hash` and `signature`, what the hash covers."""
    out: dict[str, Any] = {}
    for field in HASHED if hashed_only else FIELDS:
        value = json_value(field, entry)
        if not _omitted(field, value):
            out[field.name] = value
    return out


def _parse(field: EntryField, value: Any) -> Any:
    kind = field.kind
    if kind is Kind.INT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{field.name} is not an integer")
        return value
    if kind is Kind.TIME:
        if isinstance(value, datetime):  # a stored document's own datetime
            return to_millis_utc(value)
        if not isinstance(value, str):
            raise ValueError(f"{field.name} is not a time")
        return to_millis_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if kind is Kind.ENUM:
        assert field.enum is not None
        return field.enum(value)
    if kind is Kind.ENUM_LIST:
        assert field.enum is not None
        if not isinstance(value, list):
            raise ValueError(f"{field.name} is not a list")
        return tuple(field.enum(item) for item in value)
    if kind is Kind.TEXT_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{field.name} is not a list of strings")
        return tuple(value)
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{field.name} is not true or false")
        return value
    if kind is Kind.ACTOR:
        return actor_from(value)
    if kind is Kind.TEXT:
        if not isinstance(value, str):
            raise ValueError(f"{field.name} is not a string")
        return value
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field.name} is not a string or null")
    return value


# What a field reads as when a tolerant read finds it missing or mangled.
_EMPTY: dict[Kind, Any] = {
    Kind.ENUM_LIST: (),
    Kind.TEXT_LIST: (),
    Kind.BOOL: False,
    Kind.TEXT: "",
    Kind.OPTIONAL_TEXT: None,
    Kind.ACTOR: Actor("", Role.SYSTEM),
}


def from_record(data: Mapping[str, Any], *, strict: bool = True) -> AuditEntry:
    """An entry from its JSON object (an export line, or a stored document's values).

    Strict (verification): a wrong or missing value raises ValueError naming the field, an
    unknown key too. Tolerant (display): such a value reads as empty, so a tampered entry
    can still be listed (its hash then no longer matches); only the sequence, time, action
    and outcome are indispensable.
    """
    if strict:
        try:
            return _decode_strict(data)
        except (KeyError, ValueError, TypeError, AttributeError):
            pass  # the generic reading below names what is wrong
    unknown = set(data) - set(BY_NAME)
    if unknown and strict:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for field in FIELDS:
        try:
            if field.name not in data:
                if field.kind is Kind.OPTIONAL_TEXT:
                    values[field.attribute] = None
                    continue
                raise ValueError(f"{field.name} is missing")
            values[field.attribute] = _parse(field, data[field.name])
        except (ValueError, TypeError, AttributeError):
            if strict or field.kind not in _EMPTY:
                raise
            values[field.attribute] = _EMPTY[field.kind]
    return AuditEntry(**values)


# --- the canonical encoding the hash covers ------------------------------------------

_text = encode_basestring  # json's own C string encoder (the one json.dumps uses)


def canonical_json(fields: dict[str, Any]) -> str:
    """The reference encoding: sorted keys, no whitespace, non-ASCII kept as is."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _actor_json(actor: Actor) -> str:
    if actor.issuer is None and actor.subject is None and actor.display_name is None:
        return '{"name":' + _text(actor.name) + ',"role":' + _text(actor.role.value) + "}"
    return canonical_json(actor_record(actor))  # a person: sorted keys, as the reference


def _texts(values: Any) -> str:
    return "[" + ",".join(_text(v) for v in values) + "]"


# How each kind's value is written as JSON: a Python expression over the attribute {v}.
_JSON_OF: dict[Kind, str] = {
    Kind.INT: "str(int({v}))",
    Kind.TIME: "_text(iso_millis({v}))",
    Kind.ENUM: "_text({v}.value)",
    Kind.ENUM_LIST: "_texts(c.value for c in {v})",
    Kind.TEXT: "_text({v})",
    Kind.OPTIONAL_TEXT: '("null" if {v} is None else _text({v}))',
    Kind.TEXT_LIST: "_texts({v})",
    Kind.BOOL: '("true" if {v} else "false")',
    Kind.ACTOR: "_actor_json({v})",
}


def _compile_canonical() -> Callable[[AuditEntry], bytes]:
    """Build the canonical writer from FIELDS: one string concatenation over the hashed
    fields in sorted key order, as Python source compiled once at import (dataclasses
    builds its methods the same way). It is the hot loop of every verification, and a
    generic walk over the fields is ~25% slower; a property test holds its output
    byte-identical to `canonical_json(record(entry, hashed_only=True))`."""
    lines = ["def canonical(e):", "    out = '{'"]
    for number, field in enumerate(sorted(HASHED, key=lambda f: f.name)):
        key = ("," if number else "") + json.dumps(field.name) + ":"
        attribute = f"e.{field.attribute}"
        if field.since > 1:  # omitted when absent (never the first key, which has no comma)
            assert number and field.kind is Kind.OPTIONAL_TEXT
            lines.append(f"    if {attribute} is not None:")
            lines.append(f"        out += {key!r} + _text({attribute})")
        else:
            lines.append(f"    out += {key!r} + " + _JSON_OF[field.kind].format(v=attribute))
    lines.append("    return (out + '}').encode('utf-8')")
    namespace: dict[str, Any] = {
        "_text": _text, "_texts": _texts, "_actor_json": _actor_json, "iso_millis": iso_millis,
    }  # fmt: skip
    exec("\n".join(lines), namespace)
    canonical: Callable[[AuditEntry], bytes] = namespace["canonical"]
    return canonical


canonical_bytes = _compile_canonical()
canonical_bytes.__doc__ = (
    "Exactly `canonical_json(record(entry, hashed_only=True))` as UTF-8, written directly."
)


# --- the strict reading, compiled -----------------------------------------------------

# How each kind's value `v` is checked and converted into `a`: Python source over FIELDS.
# Every check is the one `_parse` makes, so the compiled reader accepts exactly what the
# generic strict reading accepts (it may give up sooner: `from_record` then falls back).
_READ: dict[Kind, str] = {
    Kind.INT: "if isinstance(v, bool) or not isinstance(v, int): raise ValueError\na = v",
    Kind.TIME: (
        "if isinstance(v, datetime): a = to_millis_utc(v)\n"
        "elif isinstance(v, str): a = to_millis_utc(datetime.fromisoformat("
        "v.replace('Z', '+00:00')))\n"
        "else: raise ValueError"
    ),
    Kind.ENUM: "a = {members}[v]",
    Kind.ENUM_LIST: (
        "if not isinstance(v, list): raise ValueError\na = tuple([{members}[i] for i in v])"
    ),
    Kind.TEXT_LIST: (
        "if not isinstance(v, list): raise ValueError\n"
        "for i in v:\n    if not isinstance(i, str): raise ValueError\n"
        "a = tuple(v)"
    ),
    Kind.BOOL: "if not isinstance(v, bool): raise ValueError\na = v",
    Kind.ACTOR: "a = actor_from(v)",
    Kind.TEXT: "if not isinstance(v, str): raise ValueError\na = v",
    Kind.OPTIONAL_TEXT: "if v is not None and not isinstance(v, str): raise ValueError\na = v",
}


def _compile_strict_reader() -> Callable[[Mapping[str, Any]], AuditEntry]:
    """Build the strict reader from FIELDS, as `canonical_bytes` is built: verification
    decodes every entry it reads, and the generic walk (`_parse` per field) costs several
    times the hash itself. A property test holds it to the generic reading."""
    namespace: dict[str, Any] = {
        "AuditEntry": AuditEntry, "actor_from": actor_from, "datetime": datetime,
        "to_millis_utc": to_millis_utc, "known": frozenset(BY_NAME),
    }  # fmt: skip
    lines = ["def read(d):", "    if not known.issuperset(d): raise ValueError", "    out = {}"]
    for number, field in enumerate(FIELDS):
        members = f"members{number}"
        if field.enum is not None:
            namespace[members] = {m.value: m for m in field.enum}
        fetch = "d.get" if field.kind is Kind.OPTIONAL_TEXT else "d.__getitem__"
        lines.append(f"    v = {fetch}({field.name!r})")
        for line in _READ[field.kind].format(members=members).split("\n"):
            lines.append("    " + line)
        lines.append(f"    out[{field.attribute!r}] = a")
    lines.append("    return AuditEntry(**out)")
    exec("\n".join(lines), namespace)
    reader: Callable[[Mapping[str, Any]], AuditEntry] = namespace["read"]
    return reader


_decode_strict = _compile_strict_reader()

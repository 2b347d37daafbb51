"""Object types of the schema; each wraps a domain object and describes every field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.api import enums
from app.api.connections import Connection, page
from app.api.context import Context, Info
from app.api.ids import encode_id
from app.api.pagination import (
    DEFAULT_PAGE,
    AfterArg,
    FirstArg,
    check_first,
    decode_cursor,
    encode_cursor,
)
from app.api.permissions import requires
from app.domain import models
from app.domain.access import Capability
from app.domain.entry import FIELDS, AuditEntry, EntryField, Kind, describe, describe_actor
from app.domain.errors import BadRequest
from app.domain.models import AuditOutcome
from app.domain.reads import AuditFilter
from app.services.audit import ID_CHANGES


@strawberry.interface(description="An object with an opaque, globally unique id.")
class Node:
    @strawberry.field(description="Opaque global id; pass it back as given.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError


@strawberry.type(description="An audio-conferencing bridge that users' IDs belong to.")
class Bridge(Node):
    _bridge: strawberry.Private[models.Bridge]

    @strawberry.field(description="Opaque global id of the bridge.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Bridge", self._bridge.id))

    @strawberry.field(description="Display name of the bridge.")
    def name(self) -> str:
        return self._bridge.name

    @strawberry.field(description="How many digits every conference ID on this bridge has.")
    def conference_id_length(self) -> int:
        return self._bridge.conference_id_length

    @strawberry.field(description="Default toll dial-in number, E.164 (e.g. +14255550100).")
    def default_toll_number(self) -> str | None:
        return self._bridge.default_toll_number

    @strawberry.field(description="Default toll-free dial-in number, E.164.")
    def default_toll_free_number(self) -> str | None:
        return self._bridge.default_toll_free_number

    @strawberry.field(description="True for the bridge that mutations use by default.")
    def is_default(self) -> bool:
        return self._bridge.is_default


@strawberry.type(description="A user's audio-conferencing settings: the active conference ID.")
class AudioConferencing:
    _audio: strawberry.Private[models.AudioConferencing]

    @strawberry.field(description="The active conference ID: ASCII digits, leading zeros kept.")
    def conference_id(self) -> str:
        return self._audio.conference_id

    @strawberry.field(description="The bridge the ID belongs to.")
    async def bridge(self, info: Info) -> Bridge:
        bridge = await info.context.bridges.load(self._audio.bridge_id)
        if bridge is None:  # pragma: no cover - bridges are never deleted
            raise LookupError(f"bridge {self._audio.bridge_id} is missing")
        return Bridge(_bridge=bridge)

    @strawberry.field(description="Toll number callers dial (the bridge's default).")
    async def toll_number(self, info: Info) -> str | None:
        bridge = await info.context.bridges.load(self._audio.bridge_id)
        return bridge.default_toll_number if bridge else None

    @strawberry.field(description="Toll-free number callers dial (the bridge's default).")
    async def toll_free_number(self, info: Info) -> str | None:
        bridge = await info.context.bridges.load(self._audio.bridge_id)
        return bridge.default_toll_free_number if bridge else None

    @strawberry.field(description="When this ID was assigned to the user.")
    def assigned_at(self) -> datetime:
        return self._audio.assigned_at


@strawberry.type(description="A person in the directory.")
class User(Node):
    _user: strawberry.Private[models.User]

    @strawberry.field(description="Opaque global id of the user.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("User", self._user.id))

    @strawberry.field(description="The user's display name.")
    def display_name(self) -> str:
        return self._user.display_name

    @strawberry.field(description="The user's primary email address.")
    def email(self) -> str:
        return self._user.email

    @strawberry.field(description="Audio-conferencing settings; null when the user is not enabled.")
    def audio_conferencing(self) -> AudioConferencing | None:
        return AudioConferencing(_audio=self._user.audio) if self._user.audio else None

    @strawberry.field(
        description="The newest audit entry about this user (change, send or refusal). "
        "(admin, auditor)",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def latest_audit_event(self, info: Info) -> AuditEvent | None:
        info.context.note_audit_read("latestAuditEvent", {"userId": self._user.id})
        entry = await info.context.latest_events.load(self._user.id)
        return AuditEvent.of(entry) if entry else None

    @strawberry.field(
        description="Every successful change of this user's conference ID (assign, set, "
        "reset), newest first, with actors and reasons. (admin, auditor; null for other "
        "roles, with a FORBIDDEN error for this field only)",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def conference_id_history(
        self,
        info: Info,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
    ) -> AuditEventConnection | None:
        where = AuditFilter(user_id=self._user.id, actions=ID_CHANGES, outcome=AuditOutcome.SUCCESS)
        return await event_page(info.context, where, first, after, "conferenceIdHistory")


@strawberry.type(
    description="Who did something: a static token's name and role, a person signed in "
    "through OpenID Connect (username and role, with the issuer, subject and display name "
    "that say who they are), or `system`."
)
class Actor:
    # One field per key of the actor object (app.domain.entry.ACTOR, whose descriptions
    # they use).
    name: str = strawberry.field(description=describe_actor("name"))
    role: enums.ActorRole = strawberry.field(description=describe_actor("role"))
    issuer: str | None = strawberry.field(description=describe_actor("issuer"))
    subject: str | None = strawberry.field(description=describe_actor("subject"))
    display_name: str | None = strawberry.field(description=describe_actor("displayName"))

    @classmethod
    def of(cls, actor: models.Actor) -> Actor:
        return cls(
            name=actor.name,
            role=actor.role,
            issuer=actor.issuer,
            subject=actor.subject,
            display_name=actor.display_name,
        )


# Entry fields whose GraphQL field has another name (the rest keep their own).
_GRAPHQL_NAMES = {
    "userId": "user_ref",
    "bridgeId": "bridge_ref",
    "toNonPrimary": "to_non_primary_address",
}


def graphql_attribute(field: EntryField) -> str:
    """The AuditEvent attribute that shows an entry field."""
    return _GRAPHQL_NAMES.get(field.name, field.attribute)


@strawberry.type(description="One entry of the append-only, hash-chained audit trail.")
class AuditEvent(Node):
    # One plain field per entry field (app.domain.entry.FIELDS, whose descriptions they
    # use), filled once from the entry: cheaper than one resolver per field on big pages.
    id: strawberry.ID = strawberry.field(description="Opaque global id of the entry.")
    sequence: int = strawberry.field(description=describe("sequence"))
    occurred_at: datetime = strawberry.field(description=describe("occurredAt"))
    action: enums.AuditAction = strawberry.field(description=describe("action"))
    outcome: enums.AuditOutcome = strawberry.field(description=describe("outcome"))
    error_codes: list[enums.UserErrorCode] = strawberry.field(description=describe("errorCodes"))
    user_ref: str | None = strawberry.field(description=describe("userId"))
    bridge_ref: str | None = strawberry.field(description=describe("bridgeId"))
    previous_conference_id: str | None = strawberry.field(
        description=describe("previousConferenceId")
    )
    new_conference_id: str | None = strawberry.field(description=describe("newConferenceId"))
    actor: Actor = strawberry.field(description=describe("actor"))
    source_ip: str | None = strawberry.field(description=describe("sourceIp"))
    user_agent: str | None = strawberry.field(description=describe("userAgent"))
    request_id: str | None = strawberry.field(description=describe("requestId"))
    client_request_id: str | None = strawberry.field(description=describe("clientRequestId"))
    incident_id: str | None = strawberry.field(description=describe("incidentId"))
    summary: str | None = strawberry.field(description=describe("summary"))
    reason: str | None = strawberry.field(description=describe("reason"))
    recipients: list[str] = strawberry.field(description=describe("recipients"))
    to_non_primary_address: bool = strawberry.field(description=describe("toNonPrimary"))
    operation_id: str = strawberry.field(description=describe("operationId"))
    previous_hash: str = strawberry.field(description=describe("previousHash"))
    key_id: str | None = strawberry.field(description=describe("keyId"))
    hash: str = strawberry.field(description=describe("hash"))
    signature: str | None = strawberry.field(description=describe("signature"))
    _user_id: strawberry.Private[str | None]

    @strawberry.field(description="The target user (null when the id named nobody).")
    async def user(self, info: Info) -> User | None:
        if self._user_id is None:
            return None
        user = await info.context.users.load(self._user_id)
        return User(_user=user) if user else None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEvent:
        """The GraphQL view of a stored entry: every field of the one definition."""
        values: dict[str, Any] = {}
        for field in FIELDS:
            value = getattr(entry, field.attribute)
            if field.kind is Kind.ACTOR:
                value = Actor.of(value)
            elif isinstance(value, tuple):
                value = list(value)
            values[graphql_attribute(field)] = value
        return cls(
            id=strawberry.ID(encode_id("AuditEvent", entry.sequence)),
            _user_id=entry.user_id,
            **values,
        )


@strawberry.type(description="A recorded email about a conference ID.")
class Notification(Node):
    _note: strawberry.Private[models.Notification]

    @strawberry.field(description="Opaque global id of the notification.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Notification", self._note.id))

    @strawberry.field(description="Which email this is.")
    def kind(self) -> enums.NotificationKind:
        return self._note.kind

    @strawberry.field(description="Recipient addresses.")
    def to(self) -> list[str]:
        return list(self._note.to)

    @strawberry.field(description="The subject line.")
    def subject(self) -> str:
        return self._note.subject

    @strawberry.field(description="The plain-text body, exactly as sent. Never has a PIN.")
    def body(self) -> str:
        return self._note.body

    @strawberry.field(description="The conference ID the email carries.")
    def conference_id(self) -> str:
        return self._note.conference_id

    @strawberry.field(description="Delivery status.")
    def status(self) -> enums.NotificationStatus:
        return self._note.status

    @strawberry.field(
        description="Why delivery failed, when the status is FAILED: the SMTP "
        'code and text, "delivery unknown: ...", or the attempts given up.'
    )
    def error(self) -> str | None:
        failed = self._note.status is models.NotificationStatus.FAILED
        return self._note.last_error if failed else None

    @strawberry.field(description="Hand-over attempts made so far (0 until the first begins).")
    def attempts(self) -> int:
        return self._note.attempts

    @strawberry.field(
        description="Why the latest attempt failed, whatever the status now (kept after a "
        "later attempt succeeds); null when no attempt failed."
    )
    def last_error(self) -> str | None:
        return self._note.last_error

    @strawberry.field(description="When a RETRYING email is due to be tried again.")
    def next_attempt_at(self) -> datetime | None:
        return self._note.next_attempt_at

    @strawberry.field(description="When the mail server accepted it (status SENT).")
    def sent_at(self) -> datetime | None:
        return self._note.sent_at

    @strawberry.field(
        description="The FAILED notification this one sends again (`resendNotification`)."
    )
    async def resend_of(self, info: Info) -> Notification | None:
        if self._note.resend_of is None:
            return None
        found = await info.context.services.audit.notifications_by_id([self._note.resend_of])
        old = found.get(self._note.resend_of)
        return Notification(_note=old) if old else None

    @strawberry.field(description="When the email was recorded.")
    def created_at(self) -> datetime:
        return self._note.created_at

    @strawberry.field(description="False when sent to an address other than the primary one.")
    def to_primary_address(self) -> bool:
        return self._note.to_primary_address

    @strawberry.field(description="The audit entry of the change or send that caused it.")
    async def audit_event(self, info: Info) -> AuditEvent | None:
        entry = await info.context.audit_events.load(self._note.audit_sequence)
        return AuditEvent.of(entry) if entry else None

    @strawberry.field(description="The user the email is about.")
    async def user(self, info: Info) -> User | None:
        user = await info.context.users.load(self._note.user_id)
        return User(_user=user) if user else None


@strawberry.type(description="A page of audit entries, newest first; stable while entries arrive.")
class AuditEventConnection(Connection[AuditEvent]):
    _where: strawberry.Private[AuditFilter]

    @strawberry.field(description="How many entries match the filters (all pages together).")
    async def total_count(self, info: Info) -> int:
        return await info.context.services.audit.count(self._where)


def sequence_cursor(after: str | None, kind: str) -> int | None:
    """The sequence inside a cursor of an entry list; BAD_REQUEST when it is not ours."""
    key = decode_cursor(after, kind, 1)
    if key is None:
        return None
    value = key[0]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise BadRequest("`after` is not a cursor returned by this list.")
    return value


async def event_page(
    ctx: Context, where: AuditFilter, first: int | None, after: str | None, what: str
) -> AuditEventConnection:
    """One page of entries matching `where`, newest first; the read is noted for the
    request's access-log record."""
    size = check_first(first)
    before = sequence_cursor(after, "audit")
    ctx.note_audit_read(what, where.describe())
    entries, more = await ctx.services.audit.events(where, size, before)
    edges, info = page(
        ((encode_cursor("audit", [e.sequence]), AuditEvent.of(e)) for e in entries), more, after
    )
    return AuditEventConnection(edges=edges, page_info=info, _where=where)

"""The audit trail for auditors: events, history, verification, checkpoints, the access
log and evidence packs. Every read of the trail is itself recorded in the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.api import enums
from app.api.context import Context, Info
from app.api.ids import require_id
from app.api.pagination import AfterArg, FirstArg, check_first, decode_cursor, encode_cursor
from app.api.types import (
    Actor,
    AuditEvent,
    AuditVerification,
    Notification,
    PageInfo,
    User,
    page_info,
)
from app.domain.access import Capability
from app.domain.chain import ChainVerification
from app.domain.checkpoint import Checkpoint
from app.domain.errors import BadRequest
from app.domain.models import AuditOutcome
from app.domain.reads import AccessRecord, AuditFilter
from app.domain.signing import public_pem
from app.services.audit import ID_CHANGES

ACTOR_MAX = 100


def log_read(ctx: Context, what: str, details: dict[str, str]) -> None:
    """Note a read of the trail for the request's access-log record (kept apart from the
    change chain; written once when the request ends)."""
    ctx.note_audit_read(what, details)


def sequence_cursor(after: str | None, kind: str) -> int | None:
    key = decode_cursor(after, kind, 1)
    if key is None:
        return None
    value = key[0]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise BadRequest("`after` is not a cursor returned by this list.")
    return value


@strawberry.type(description="An audit entry and its cursor.")
class AuditEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")
    node: AuditEvent = strawberry.field(description="The entry.")


@strawberry.type(description="A page of audit entries, newest first; stable while entries arrive.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Whether older entries follow.")
    _where: strawberry.Private[AuditFilter]

    @strawberry.field(description="How many entries match the filters (all pages together).")
    async def total_count(self, info: Info) -> int:
        return await info.context.services.audit.count(self._where)


async def event_page(
    ctx: Context, where: AuditFilter, first: int | None, after: str | None, what: str
) -> AuditEventConnection:
    """One page of entries matching `where`, newest first, with the read logged."""
    size = check_first(first)
    before = sequence_cursor(after, "audit")
    log_read(ctx, what, where.describe())
    entries, more = await ctx.services.audit.events(where, size, before)
    edges = [
        AuditEventEdge(cursor=encode_cursor("audit", [e.sequence]), node=AuditEvent.of(e))
        for e in entries
    ]
    return AuditEventConnection(
        edges=edges,
        page_info=page_info(edges, more),
        _where=where,
    )


@strawberry.type(description="A notification and its cursor.")
class NotificationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this email.")
    node: Notification = strawberry.field(description="The recorded email.")


@strawberry.type(description="A page of recorded emails, newest first.")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="The emails of this page.")
    page_info: PageInfo = strawberry.field(description="Whether older emails follow.")


@strawberry.type(description="confid's signed statement of the chain head at a moment.")
class AuditCheckpoint:
    _checkpoint: strawberry.Private[Checkpoint]

    @strawberry.field(description="The newest entry's sequence when signed (0: empty trail).")
    def sequence(self) -> int:
        return self._checkpoint.sequence

    @strawberry.field(description="That entry's hash (64 zeros for an empty trail).")
    def hash(self) -> str:
        return self._checkpoint.hash

    @strawberry.field(description="When it was signed (server UTC).")
    def signed_at(self) -> datetime:
        return self._checkpoint.signed_at

    @strawberry.field(description="Id of the signing key (see auditSigningKey).")
    def key_id(self) -> str:
        return self._checkpoint.key_id

    @strawberry.field(
        description="Ed25519 signature (base64) of the canonical JSON "
        '{"hash","sequence","signedAt","type":"confid-audit-checkpoint"}.'
    )
    def signature(self) -> str:
        return self._checkpoint.signature


@strawberry.type(description="A checkpoint and its cursor.")
class AuditCheckpointEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this one.")
    node: AuditCheckpoint = strawberry.field(description="The checkpoint.")


@strawberry.type(description="Signed checkpoints, newest first.")
class AuditCheckpointConnection:
    edges: list[AuditCheckpointEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Whether older checkpoints follow.")


@strawberry.type(description="The public half of the key that signs entries and checkpoints.")
class AuditSigningKey:
    key_id: str = strawberry.field(description="Short id: hex SHA-256 of the raw key, 16 digits.")
    algorithm: str = strawberry.field(description="Always Ed25519.")
    public_key_pem: str = strawberry.field(
        description="The public key (PEM) to pin and verify with."
    )


@strawberry.type(description="One read or export of the audit trail.")
class AuditAccess:
    _record: strawberry.Private[AccessRecord]

    @strawberry.field(description="When it happened (server UTC).")
    def at(self) -> datetime:
        return self._record.at

    @strawberry.field(description="What was read: auditEvents, verifyAuditTrail, export, ...")
    def what(self) -> str:
        return self._record.what

    @strawberry.field(description="The filters used, as `name=value` pairs.")
    def filters(self) -> list[str]:
        return [f"{k}={v}" for k, v in sorted(self._record.details.items())]

    @strawberry.field(description="Who read it.")
    def actor(self) -> Actor:
        actor = self._record.meta.actor
        return Actor.of(actor)

    @strawberry.field(description="The client's IP address.")
    def source_ip(self) -> str | None:
        return self._record.meta.source_ip

    @strawberry.field(description="The client's User-Agent header.")
    def user_agent(self) -> str | None:
        return self._record.meta.user_agent

    @strawberry.field(description="The request id.")
    def request_id(self) -> str | None:
        return self._record.meta.request_id


@strawberry.type(description="An access-log record and its cursor.")
class AuditAccessEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this one.")
    node: AuditAccess = strawberry.field(description="The record.")


@strawberry.type(description="Reads and exports of the trail, newest first.")
class AuditAccessConnection:
    edges: list[AuditAccessEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Whether older records follow.")


@strawberry.type(description="One entry of an evidence pack with its own verification.")
class EvidenceEntry:
    event: AuditEvent = strawberry.field(description="The audit entry.")
    verified: bool = strawberry.field(
        description="Its hash, signature and link to the entry before it all check out."
    )
    problem: str | None = strawberry.field(description="What does not check out, if anything.")


@strawberry.type(description="Everything about one user's conference ID, for an auditor's file.")
class UserEvidence:
    user: User = strawberry.field(description="The user as they are now.")
    current_conference_id: str | None = strawberry.field(
        description="The active conference ID (null when not enabled)."
    )
    entries: list[EvidenceEntry] = strawberry.field(
        description="Every audit entry about the user (changes, sends, refusals), oldest first."
    )
    notifications: list[Notification] = strawberry.field(
        description="Every email about the user, newest first, with its delivery status."
    )
    truncated: bool = strawberry.field(
        description="True when the user has over 1,000 entries and only the newest are here."
    )
    all_entries_verified: bool = strawberry.field(
        description="True when every entry above verified on its own and against its neighbour."
    )
    chain: AuditVerification = strawberry.field(description="The whole chain's verification.")
    generated_at: datetime = strawberry.field(description="When this pack was made.")


def _verification(result: ChainVerification) -> AuditVerification:
    return AuditVerification(
        ok=result.ok,
        checked=result.checked,
        first_invalid_sequence=result.first_invalid_sequence,
        reason=result.reason,
        head_hash=result.head_hash,
        checkpoints_checked=result.checkpoints_checked,
    )


@strawberry.type(description="Read access to the audit trail (admin, auditor).")
class TrailQuery:
    @strawberry.field(description="The audit trail, newest first, filters combined with AND.")
    async def audit_events(
        self,
        info: Info,
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this user's entries.")
        ] = None,
        action: Annotated[
            enums.AuditAction | None, strawberry.argument(description="Only this action.")
        ] = None,
        outcome: Annotated[
            enums.AuditOutcome | None, strawberry.argument(description="Only this outcome.")
        ] = None,
        actor: Annotated[
            str | None, strawberry.argument(description="Only this actor (token name).")
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Only entries at or after this."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Only entries before this.")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> AuditEventConnection:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        if actor is not None and len(actor) > ACTOR_MAX:
            raise BadRequest(f"`actor` may have at most {ACTOR_MAX} characters.")
        where = AuditFilter(
            user_id=require_id(user_id, "User", "userId") if user_id is not None else None,
            action=action,
            outcome=outcome,
            actor=actor,
            occurred_from=from_,
            occurred_to=to,
        )
        return await event_page(ctx, where, first, after, "auditEvents")

    @strawberry.field(
        description="Recompute the hash chain, entry signatures and checkpoints; name the "
        "first entry that does not verify."
    )
    async def verify_audit_trail(self, info: Info) -> AuditVerification:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        log_read(ctx, "verifyAuditTrail", {})
        return _verification(await ctx.services.audit.verify())

    @strawberry.field(description="Recorded emails, newest first.")
    async def notifications(
        self,
        info: Info,
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this user's emails.")
        ] = None,
        kind: Annotated[
            enums.NotificationKind | None, strawberry.argument(description="Only this kind.")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> NotificationConnection:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        size = check_first(first)
        before = sequence_cursor(after, "notifications")
        stored_user = require_id(user_id, "User", "userId") if user_id is not None else None
        details = {"userId": stored_user} if stored_user else {}
        if kind:
            details["kind"] = kind.name
        log_read(ctx, "notifications", details)
        notes, more = await ctx.services.audit.notifications(stored_user, kind, size, before)
        edges = [
            NotificationEdge(
                cursor=encode_cursor("notifications", [n.audit_sequence]),
                node=Notification(_note=n),
            )
            for n in notes
        ]
        return NotificationConnection(
            edges=edges,
            page_info=page_info(edges, more),
        )

    @strawberry.field(description="Signed checkpoints of the chain head, newest first.")
    async def audit_checkpoints(
        self,
        info: Info,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> AuditCheckpointConnection:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        size = check_first(first)
        log_read(ctx, "auditCheckpoints", {})
        key = decode_cursor(after, "checkpoints", 1)
        if key is not None and not isinstance(key[0], str):
            raise BadRequest("`after` is not a cursor returned by this list.")
        rows, more = await ctx.services.audit.checkpoints.page(size, key[0] if key else None)
        edges = [
            AuditCheckpointEdge(
                cursor=encode_cursor("checkpoints", [cid]), node=AuditCheckpoint(_checkpoint=cp)
            )
            for cid, cp in rows
        ]
        return AuditCheckpointConnection(
            edges=edges,
            page_info=page_info(edges, more),
        )

    @strawberry.field(
        description="The public key entries and checkpoints are signed with; null when "
        "signing is not configured. Also at GET /audit/public-key."
    )
    def audit_signing_key(self, info: Info) -> AuditSigningKey | None:
        ctx = info.context
        ctx.require(Capability.READ_DIRECTORY)
        signer = ctx.services.audit.signer
        if signer is None:
            return None
        return AuditSigningKey(
            key_id=signer.key_id, algorithm="Ed25519", public_key_pem=public_pem(signer.public)
        )

    @strawberry.field(description="Who read or exported the trail, newest first.")
    async def audit_access_log(
        self,
        info: Info,
        actor: Annotated[
            str | None, strawberry.argument(description="Only this reader (token name).")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> AuditAccessConnection:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        size = check_first(first)
        key = decode_cursor(after, "access", 1)
        if key is not None and not isinstance(key[0], str):
            raise BadRequest("`after` is not a cursor returned by this list.")
        if actor is not None and len(actor) > ACTOR_MAX:
            raise BadRequest(f"`actor` may have at most {ACTOR_MAX} characters.")
        log_read(ctx, "auditAccessLog", {"actor": actor} if actor is not None else {})
        records, more = await ctx.services.audit.access_log(actor, size, key[0] if key else None)
        edges = [
            AuditAccessEdge(cursor=encode_cursor("access", [r.id]), node=AuditAccess(_record=r))
            for r in records
        ]
        return AuditAccessConnection(
            edges=edges,
            page_info=page_info(edges, more),
        )

    @strawberry.field(
        description="An evidence pack: the user's current ID, full history with actors and "
        "reasons, the emails sent and their status, and the verification of it all."
    )
    async def user_evidence(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
    ) -> UserEvidence | None:
        ctx = info.context
        ctx.require(Capability.READ_AUDIT)
        stored = require_id(user_id, "User", "userId")
        log_read(ctx, "userEvidence", {"userId": stored})
        user = await ctx.services.directory.user(stored)
        if user is None:
            return None
        pack = await ctx.services.audit.evidence(user)
        return UserEvidence(
            user=User(_user=user),
            current_conference_id=user.audio.conference_id if user.audio else None,
            entries=[
                EvidenceEntry(event=AuditEvent.of(c.entry), verified=c.ok, problem=c.reason)
                for c in pack.entries
            ],
            notifications=[Notification(_note=n) for n in pack.notifications],
            truncated=pack.truncated,
            all_entries_verified=all(c.ok for c in pack.entries),
            chain=_verification(pack.chain),
            generated_at=pack.generated_at,
        )


async def conference_id_history(
    ctx: Context, user_id: str, first: int | None, after: str | None
) -> AuditEventConnection:
    """A user's successful ID changes (assign, set, reset), newest first."""
    ctx.require(Capability.READ_AUDIT)
    where = AuditFilter(user_id=user_id, actions=ID_CHANGES, outcome=AuditOutcome.SUCCESS)
    return await event_page(ctx, where, first, after, "conferenceIdHistory")

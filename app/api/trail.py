"""The audit trail for auditors: events, verification, emails, checkpoints, the access log
and evidence packs. Every request that reads the trail writes one access-log record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.api import enums
from app.api.connections import page
from app.api.context import Info
from app.api.ids import require_id
from app.api.pagination import (
    DEFAULT_PAGE,
    AfterArg,
    FirstArg,
    check_first,
    decode_cursor,
    encode_cursor,
)
from app.api.permissions import requires
from app.api.results import AuditVerification, verification
from app.api.trail_types import (
    AuditAccess,
    AuditAccessConnection,
    AuditCheckpoint,
    AuditCheckpointConnection,
    AuditSigningKey,
    EvidenceEntry,
    NotificationConnection,
    UserEvidence,
)
from app.api.types import (
    AuditEvent,
    AuditEventConnection,
    Notification,
    User,
    event_page,
    sequence_cursor,
)
from app.domain.access import Capability
from app.domain.errors import BadRequest
from app.domain.reads import AuditFilter
from app.domain.signing import public_pem

ACTOR_MAX = 100
SUBJECT_MAX = 255  # OpenID Connect Core 1.0, 2: `sub` is at most 255 ASCII characters
INCIDENT_MAX = 100


def _actor(actor: str | None, name: str = "actor", limit: int = ACTOR_MAX) -> str | None:
    if actor is not None and len(actor) > limit:
        raise BadRequest(f"`{name}` may have at most {limit} characters.")
    return actor


def _incident(incident_id: str | None) -> str | None:
    if incident_id is not None and len(incident_id) > INCIDENT_MAX:
        raise BadRequest(f"`incidentId` may have at most {INCIDENT_MAX} characters.")
    return incident_id


def _text_cursor(after: str | None, kind: str) -> str | None:
    key = decode_cursor(after, kind, 1)
    if key is not None and not isinstance(key[0], str):
        raise BadRequest("`after` is not a cursor returned by this list.")
    return key[0] if key else None


@strawberry.type(description="Read access to the audit trail (admin, auditor).")
class TrailQuery:
    @strawberry.field(
        description="The audit trail, newest first, filters combined with AND.",
        extensions=requires(Capability.READ_AUDIT),
    )
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
            str | None,
            strawberry.argument(
                description="Only this actor, by name: a static token's name or a signed-in "
                "person's username, exactly as recorded."
            ),
        ] = None,
        actor_subject: Annotated[
            str | None,
            strawberry.argument(
                description="Only this person, by their OpenID Connect subject (`sub`): "
                "their stable id at the issuer, which finds their entries across a change "
                "of username."
            ),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Only entries at or after this."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Only entries before this.")
        ] = None,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
        incident_id: Annotated[
            str | None,
            strawberry.argument(
                description="Only the entries of this incident (a bulk reset job's "
                "`incidentId`): its start, each reset and refusal, its end."
            ),
        ] = None,
    ) -> AuditEventConnection:
        where = AuditFilter(
            user_id=require_id(user_id, "User", "userId") if user_id is not None else None,
            action=action,
            outcome=outcome,
            actor=_actor(actor),
            actor_subject=_actor(actor_subject, "actorSubject", SUBJECT_MAX),
            occurred_from=from_,
            occurred_to=to,
            incident_id=_incident(incident_id),
        )
        return await event_page(info.context, where, first, after, "auditEvents")

    @strawberry.field(
        description="Recompute the hash chain, entry signatures and checkpoints; name the "
        "first entry that does not verify. Ed25519 signatures are checked for the "
        "checkpoints and for the entries after the newest one; a validly signed checkpoint "
        "vouches for every entry before it through the hash links.",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def verify_audit_trail(
        self,
        info: Info,
        from_checkpoint: Annotated[
            int | None,
            strawberry.argument(
                description="Verify only what was appended after the signed checkpoint at "
                "this sequence (as listed by `auditCheckpoints`): that checkpoint's "
                "signature and the entry it names are checked, then every later entry. "
                "Omit to verify the whole trail."
            ),
        ] = None,
        every_signature: Annotated[
            bool,
            strawberry.argument(
                description="Check every entry's own Ed25519 signature, even where a "
                "signed checkpoint already vouches for it (slower; the verdict on a trail "
                "tampered with after its checkpoints is the same)."
            ),
        ] = False,
    ) -> AuditVerification:
        details = {} if from_checkpoint is None else {"fromCheckpoint": str(from_checkpoint)}
        if every_signature:
            details["everySignature"] = "true"
        info.context.note_audit_read("verifyAuditTrail", details)
        result = await info.context.services.audit.verify(
            from_checkpoint=from_checkpoint, every_signature=every_signature
        )
        return verification(result)

    @strawberry.field(
        description="Recorded emails, newest first.", extensions=requires(Capability.READ_AUDIT)
    )
    async def notifications(
        self,
        info: Info,
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this user's emails.")
        ] = None,
        kind: Annotated[
            enums.NotificationKind | None, strawberry.argument(description="Only this kind.")
        ] = None,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
    ) -> NotificationConnection:
        ctx = info.context
        size = check_first(first)
        before = sequence_cursor(after, "notifications")
        stored_user = require_id(user_id, "User", "userId") if user_id is not None else None
        details = {"userId": stored_user} if stored_user else {}
        if kind:
            details["kind"] = kind.name
        ctx.note_audit_read("notifications", details)
        notes, more = await ctx.services.audit.notifications(stored_user, kind, size, before)
        edges, page_info = page(
            (
                (encode_cursor("notifications", [n.audit_sequence]), Notification(_note=n))
                for n in notes
            ),
            more,
            after,
        )
        return NotificationConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="Signed checkpoints of the chain head, newest first.",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def audit_checkpoints(
        self, info: Info, first: FirstArg = DEFAULT_PAGE, after: AfterArg = None
    ) -> AuditCheckpointConnection:
        ctx = info.context
        size = check_first(first)
        ctx.note_audit_read("auditCheckpoints", {})
        rows, more = await ctx.services.audit.checkpoints.page(
            size, _text_cursor(after, "checkpoints")
        )
        edges, page_info = page(
            (
                (encode_cursor("checkpoints", [cid]), AuditCheckpoint(_checkpoint=cp))
                for cid, cp in rows
            ),
            more,
            after,
        )
        return AuditCheckpointConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="The public key entries and checkpoints are signed with; null when "
        "signing is not configured. Also at GET /audit/public-key.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    def audit_signing_key(self, info: Info) -> AuditSigningKey | None:
        signer = info.context.services.audit.signer
        if signer is None:
            return None
        return AuditSigningKey(
            key_id=signer.key_id, algorithm="Ed25519", public_key_pem=public_pem(signer.public)
        )

    @strawberry.field(
        description="Who read or exported the trail, newest first.",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def audit_access_log(
        self,
        info: Info,
        actor: Annotated[
            str | None,
            strawberry.argument(
                description="Only this reader, by name: a static token's name or a signed-in "
                "person's username."
            ),
        ] = None,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
    ) -> AuditAccessConnection:
        ctx = info.context
        size = check_first(first)
        before = _text_cursor(after, "access")
        ctx.note_audit_read("auditAccessLog", {"actor": actor} if actor is not None else {})
        records, more = await ctx.services.audit.access_log(_actor(actor), size, before)
        edges, page_info = page(
            ((encode_cursor("access", [r.id]), AuditAccess(_record=r)) for r in records),
            more,
            after,
        )
        return AuditAccessConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="An evidence pack: the user's current ID, full history with actors and "
        "reasons, the emails sent and their status, and the verification of it all.",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def user_evidence(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
    ) -> UserEvidence | None:
        ctx = info.context
        stored = require_id(user_id, "User", "userId")
        ctx.note_audit_read("userEvidence", {"userId": stored})
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
            chain=verification(pack.chain),
            generated_at=pack.generated_at,
        )

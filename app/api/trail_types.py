"""Types of the auditors' part of the schema: checkpoints, the signing key, the access
log, evidence packs and the emails list."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.connections import Connection
from app.api.results import AuditVerification
from app.api.types import Actor, AuditEvent, Notification, User
from app.domain.checkpoint import Checkpoint
from app.domain.reads import AccessRecord


@strawberry.type(description="A page of recorded emails, newest first.")
class NotificationConnection(Connection[Notification]):
    pass


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


@strawberry.type(description="Signed checkpoints, newest first.")
class AuditCheckpointConnection(Connection[AuditCheckpoint]):
    pass


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


@strawberry.type(
    description="Reads and exports of the trail, newest first (one record per "
    "request, naming every field it read)."
)
class AuditAccessConnection(Connection[AuditAccess]):
    pass


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

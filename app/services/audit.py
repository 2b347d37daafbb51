"""What auditors read: the trail, its verification, the access log, evidence and exports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.chain import EntryFault, entry_fault
from app.domain.checkpoint import Checkpoint
from app.domain.entry import AuditEntry
from app.domain.export import FORMAT
from app.domain.export_seal import ExportHeader, ExportStatement, ExportTally
from app.domain.models import AuditAction, Notification, NotificationKind, RequestMeta, User
from app.domain.reads import AccessRecord, AuditFilter
from app.domain.signing import Signer
from app.domain.verifier import ChainVerification
from app.services.checkpoints import CheckpointService
from app.services.clock import Clock
from app.services.verification import TrailVerifier
from app.store.access_log import AccessLogRepository
from app.store.audit import AuditRepository
from app.store.notifications import NotificationRepository
from app.store.users import UserRepository

EXPORT_PAGE = 500
EVIDENCE_MAX = 1000
ID_CHANGES = (AuditAction.ASSIGN, AuditAction.SET, AuditAction.RESET)
_EVIDENCE_WORDS = {
    EntryFault.EDITED: "its contents do not match its hash",
    EntryFault.UNSIGNED: "it is not signed by confid's key",
}


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """A snapshot of what an export will contain, fixed before streaming begins."""

    where: AuditFilter
    head_sequence: int
    head_hash: str
    count: int
    first_sequence: int | None
    last_sequence: int | None
    checkpoints: list[Checkpoint]
    exported_at: datetime


@dataclass(slots=True)
class EntryCheck:
    """One evidence entry's own verification."""

    entry: AuditEntry
    ok: bool
    reason: str | None


@dataclass(slots=True)
class Evidence:
    """Everything about one user an auditor attaches to a finding."""

    user: User
    entries: list[EntryCheck]
    notifications: list[Notification]
    truncated: bool
    chain: ChainVerification
    generated_at: datetime


class AuditService:
    """Reads of the trail; every one of them is recorded in the access log."""

    def __init__(
        self,
        audit: AuditRepository,
        notifications: NotificationRepository,
        users: UserRepository,
        access: AccessLogRepository,
        checkpoints: CheckpointService,
        clock: Clock,
        verifier: TrailVerifier,
    ) -> None:
        self._verifier = verifier
        self.signed_from = verifier.signed_from
        self._audit = audit
        self._notifications = notifications
        self._users = users
        self._access = access
        self.checkpoints = checkpoints
        self._clock = clock

    @property
    def signer(self) -> Signer | None:
        return self.checkpoints.signer

    def public_keys(self) -> dict[str, Ed25519PublicKey] | None:
        """The keys entries and checkpoints may be signed with: the current one and any
        previous ones (after a rotation). None when signing is off."""
        return self._verifier.public_keys()

    async def record_access(self, meta: RequestMeta, what: str, details: dict[str, str]) -> None:
        """Note a read of the trail (never part of the change chain)."""
        await self._access.record(meta, what, details, self._clock())

    async def access_log(
        self, actor: str | None, first: int, before: str | None
    ) -> tuple[list[AccessRecord], bool]:
        return await self._access.page(actor, first, before)

    async def trail_length(self) -> int:
        """How many entries the trail holds: the head's sequence (sequences are gapless)."""
        sequence, _ = await self._audit.head()
        return sequence

    async def events(
        self, where: AuditFilter, first: int, before: int | None
    ) -> tuple[list[AuditEntry], bool]:
        return await self._audit.page(where, first, before)

    async def count(self, where: AuditFilter) -> int:
        return await self._audit.count(where)

    async def latest_for_users(self, user_ids: list[str]) -> dict[str, AuditEntry]:
        return await self._audit.latest_for_users(user_ids)

    async def events_by_sequence(self, sequences: list[int]) -> dict[int, AuditEntry]:
        return await self._audit.get_many(sequences)

    async def notifications(
        self, user_id: str | None, kind: NotificationKind | None, first: int, before: int | None
    ) -> tuple[list[Notification], bool]:
        return await self._notifications.page(user_id, kind, first, before)

    async def notifications_by_id(self, ids: list[str]) -> dict[str, Notification]:
        return await self._notifications.get_many(ids)

    async def verify(
        self, *, from_checkpoint: int | None = None, every_signature: bool = False
    ) -> ChainVerification:
        """Recompute the chain in bounded pages, with signatures and checkpoints: all of
        it, or what followed the checkpoint at sequence `from_checkpoint`."""
        return await self._verifier.verify(
            from_checkpoint=from_checkpoint, every_signature=every_signature
        )

    async def plan_export(self, where: AuditFilter) -> ExportPlan:
        """Fix the export's snapshot: entries up to the current head only, and every
        checkpoint (read first, so none can be newer than the head unless entries were cut)."""
        checkpoints = await self.checkpoints.all()
        head_sequence, head_hash = await self._audit.head()
        count = await self._audit.count(where, up_to=head_sequence)
        if where.empty:  # the whole trail: its ends are known without another query
            first, last = (1 if count else None), (head_sequence if count else None)
        else:
            first = await self._audit.edge_sequence(where, newest=False, up_to=head_sequence)
            last = await self._audit.edge_sequence(where, newest=True, up_to=head_sequence)
        return ExportPlan(
            where=where,
            head_sequence=head_sequence,
            head_hash=head_hash,
            count=count,
            first_sequence=first,
            last_sequence=last,
            checkpoints=checkpoints,
            exported_at=self._clock(),
        )

    def export_header(self, plan: ExportPlan, encoding: str) -> ExportHeader:
        """What the export's manifest states (and its seal signs again at the end)."""
        signer = self.signer
        return ExportHeader(
            format=FORMAT,
            encoding=encoding,
            exported_at=plan.exported_at,
            filter=plan.where.describe(),
            partial=not plan.where.empty,
            count=plan.count,
            first_sequence=plan.first_sequence,
            last_sequence=plan.last_sequence,
            head_sequence=plan.head_sequence,
            head_hash=plan.head_hash,
            checkpoints=len(plan.checkpoints),
            key_id=signer.key_id if signer else None,
            signed_from_sequence=self.signed_from,
        )

    def seal_export(
        self, header: ExportHeader, written: ExportTally
    ) -> tuple[ExportStatement, str | None]:
        """The export's seal once its entries are written: the header and what was
        written, signed with the audit signing key (None: signing is off)."""
        statement = ExportStatement(header, written.last_hash, written.entries_digest)
        signer = self.signer
        return statement, statement.sign(signer) if signer else None

    async def export_entries(self, plan: ExportPlan) -> AsyncIterator[AuditEntry]:
        """The plan's entries in sequence order, read in bounded pages."""
        async for stored in self._audit.ascending(EXPORT_PAGE, plan.where, plan.head_sequence):
            if stored.entry is not None:
                yield stored.entry

    async def evidence(self, user: User) -> Evidence:
        """The user's whole trail with each entry checked on its own and against its
        predecessor, the emails sent, and the chain's verdict."""
        where = AuditFilter(user_id=user.id)
        entries, more = await self._audit.page(where, EVIDENCE_MAX, None)
        entries.reverse()
        keys = self.public_keys()
        predecessors = await self._audit.get_many(
            [e.sequence - 1 for e in entries if e.sequence > 1]
        )
        checks: list[EntryCheck] = []
        for entry in entries:
            reason = None
            fault = entry_fault(entry, keys, self.signed_from)
            if fault is not None:
                reason = _EVIDENCE_WORDS[fault]
            elif entry.sequence > 1 and (
                entry.sequence - 1 not in predecessors
                or predecessors[entry.sequence - 1].hash != entry.previous_hash
            ):
                reason = "it does not link to the entry before it"
            checks.append(EntryCheck(entry, reason is None, reason))
        notes, _ = await self._notifications.page(user.id, None, EVIDENCE_MAX, None)
        return Evidence(
            user=user,
            entries=checks,
            notifications=notes,
            truncated=more,
            chain=await self.verify(),
            generated_at=self._clock(),
        )

"""Builds every service of one app from a database, settings and injectable parts."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.generator import RandomBelow
from app.domain.retry import RetryPolicy
from app.domain.signing import Signer
from app.notify.transport import RecordOnlyTransport, Transport
from app.services.audit import AuditService
from app.services.changes import ChangeService, Policy
from app.services.checkpoints import CheckpointService
from app.services.clock import Clock, utc_now
from app.services.delivery import DeliveryWorker
from app.services.directory import DirectoryService
from app.services.idempotency import Idempotency
from app.services.outbox import Outbox
from app.services.recovery import RecoveryService
from app.services.resend import ResendService
from app.services.seed import seed_demo
from app.services.steps import StepHook, no_checkpoint
from app.settings import Settings
from app.store.access_log import AccessLogRepository
from app.store.audit import AuditRepository
from app.store.bridges import BridgeRepository
from app.store.checkpoints import CheckpointRepository
from app.store.database import Database, ping
from app.store.idempotency import IdempotencyRepository
from app.store.indexes import ensure_indexes
from app.store.notifications import NotificationRepository
from app.store.registry import ConferenceIdRegistry
from app.store.users import UserRepository

log = logging.getLogger("confid")


@dataclass(slots=True)
class Services:
    """Everything the API layer may call."""

    database: Database
    directory: DirectoryService
    changes: ChangeService
    audit: AuditService
    recovery: RecoveryService
    idempotency: Idempotency
    delivery: DeliveryWorker
    resend: ResendService
    _bridges: BridgeRepository
    _users: UserRepository
    _settings: Settings

    async def start(self) -> None:
        """Indexes, recovery of what a dead process left, then the demo seed if asked."""
        await ensure_indexes(self.database)
        if self._settings.embedded:
            log.info(
                "audit_events $jsonSchema validator not applied: the embedded store has no "
                "validators (scripts/mongo-provision applies it on MongoDB)"
            )
        await self.recovery.sweep()
        if self._settings.seed_demo:
            await seed_demo(self._bridges, self._users, self.changes, self._settings.demo_users)
        await self.audit.checkpoints.create()  # where the trail stood when this process began

    async def ready(self) -> bool:
        """True when the database answers."""
        try:
            await ping(self.database)
        except Exception:
            return False
        return True


def build_services(
    database: Database,
    settings: Settings,
    *,
    transport: Transport | None = None,
    clock: Clock = utc_now,
    randbelow: RandomBelow = secrets.randbelow,
    checkpoint: StepHook = no_checkpoint,
    signer: Signer | None = None,
    previous_keys: list[Ed25519PublicKey] | None = None,
) -> Services:
    """Wire repositories and services over one database."""
    users = UserRepository(database)
    bridges = BridgeRepository(database)
    quarantine = (
        timedelta(days=settings.quarantine_days) if settings.quarantine_days is not None else None
    )
    registry = ConferenceIdRegistry(database, quarantine)
    audit = AuditRepository(database, signer)
    notes = NotificationRepository(database)
    outbox = Outbox(
        notes,
        transport or RecordOnlyTransport(),
        clock,
        RetryPolicy(
            max_attempts=settings.email_max_attempts,
            base=timedelta(seconds=settings.email_retry_base_seconds),
        ),
    )
    grace = timedelta(seconds=settings.recovery_grace_seconds)
    changes = ChangeService(
        users=users,
        bridges=bridges,
        registry=registry,
        audit=audit,
        outbox=outbox,
        policy=Policy(
            send_emails_automatically=settings.send_emails_automatically,
            lock_wait=timedelta(seconds=settings.lock_wait_seconds),
            stale_after=grace,
        ),
        clock=clock,
        randbelow=randbelow,
        checkpoint=checkpoint,
    )
    recovery = RecoveryService(
        users=users, registry=registry, changes=changes, outbox=outbox, clock=clock, grace=grace
    )
    checkpoints = CheckpointService(audit, CheckpointRepository(database), signer, clock)
    return Services(
        database=database,
        directory=DirectoryService(users, bridges),
        changes=changes,
        audit=AuditService(
            audit,
            notes,
            users,
            AccessLogRepository(database),
            checkpoints,
            clock,
            previous_keys=previous_keys,
            signed_from=settings.signed_from_sequence,
        ),
        recovery=recovery,
        idempotency=Idempotency(
            IdempotencyRepository(database),
            changes,
            clock,
            wait=timedelta(seconds=settings.lock_wait_seconds),
            stale_after=grace,
        ),
        delivery=DeliveryWorker(outbox, poll=settings.email_poll_seconds),
        resend=ResendService(outbox, changes),
        _bridges=bridges,
        _users=users,
        _settings=settings,
    )

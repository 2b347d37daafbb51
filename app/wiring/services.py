"""Building every repository and service of one app over one database."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from app.domain.generator import RandomBelow
from app.domain.retry import RetryPolicy
from app.domain.signing import Signer
from app.notify.transport import RecordOnlyTransport, Transport
from app.services.activity import ActivityService
from app.services.audit import AuditService
from app.services.bulk_resets import BulkResetService
from app.services.bulk_selection import Selector
from app.services.bulk_trail import IncidentTrail
from app.services.bulk_worker import BulkResetWorker, Pacing
from app.services.chain import AuditChain
from app.services.change_path import ChangePath
from app.services.changes import ChangeService, Policy
from app.services.checkpoints import CheckpointService
from app.services.claims import Claims
from app.services.clock import Clock, utc_now
from app.services.completion import Completion
from app.services.container import Services
from app.services.delivery import DeliveryWorker
from app.services.directory import DirectoryService
from app.services.email_tail import NotificationTail
from app.services.idempotency import Idempotency
from app.services.live import LiveFeeds
from app.services.locks import UserLocks
from app.services.observer import NO_OBSERVER, Observer
from app.services.outbox import Outbox
from app.services.outcomes import OutcomeReader
from app.services.recovery import RecoveryService
from app.services.refusals import Refusals
from app.services.resend import ResendService
from app.services.seed import DemoSeed
from app.services.steps import FaultHook, no_faults
from app.services.tail import AuditTail
from app.services.verification import TrailVerifier
from app.services.vitals import Vitals
from app.settings import Settings
from app.store.access_log import AccessLogRepository
from app.store.activity import ActivityRepository
from app.store.audit import AuditRepository
from app.store.bridges import BridgeRepository
from app.store.bulk_jobs import BulkJobRepository
from app.store.checkpoints import CheckpointRepository
from app.store.database import Database
from app.store.idempotency import IdempotencyRepository
from app.store.notifications import NotificationRepository
from app.store.registry import ConferenceIdRegistry
from app.store.users import UserRepository
from app.wiring.loaders import load_previous_keys, load_signer, load_transport

log = logging.getLogger("confid")


@dataclass(frozen=True, slots=True)
class Parts:
    """What a test or an embedder may replace; everything else comes from settings."""

    transport: Transport | None = None
    signer: Signer | None = None  # None: the key the settings name (or a generated one)
    clock: Clock = utc_now
    randbelow: RandomBelow = secrets.randbelow
    fault: FaultHook = no_faults
    observer: Observer = NO_OBSERVER  # the metrics, when they are on


@dataclass(frozen=True, slots=True)
class _Stores:
    """The repositories over one database."""

    database: Database
    users: UserRepository
    bridges: BridgeRepository
    registry: ConferenceIdRegistry
    entries: AuditRepository
    notes: NotificationRepository

    @classmethod
    def over(cls, database: Database, settings: Settings) -> _Stores:
        days = settings.quarantine_days
        quarantine = timedelta(days=days) if days is not None else None
        return cls(
            database,
            UserRepository(database),
            BridgeRepository(database),
            ConferenceIdRegistry(database, quarantine),
            AuditRepository(database),
            NotificationRepository(database),
        )


def build_services(database: Database, settings: Settings, parts: Parts | None = None) -> Services:
    """Wire repositories and services over one database."""
    parts = parts or Parts()
    stores = _Stores.over(database, settings)
    signer = parts.signer or load_signer(settings)
    live = _live_feeds(stores, settings, parts.clock)
    # Local appends wake this process's live tail at once.
    chain = AuditChain(stores.entries, signer, parts.observer, on_append=live.audit.wake)
    outbox = _outbox(stores, settings, parts)
    grace = timedelta(seconds=settings.recovery_grace_seconds)
    completion = Completion(
        users=stores.users, bridges=stores.bridges, registry=stores.registry, chain=chain,
        outbox=outbox, clock=parts.clock, grace=grace, fault=parts.fault,
        observer=parts.observer,
    )  # fmt: skip
    outcomes = OutcomeReader(stores.entries, stores.notes, stores.users)
    changes = _changes(stores, settings, parts, chain, completion, outcomes)
    return Services(
        database=database,
        directory=DirectoryService(stores.users, stores.bridges),
        changes=changes,
        audit=_audit(stores, settings, parts.clock, signer),
        recovery=RecoveryService(
            users=stores.users,
            registry=stores.registry,
            completion=completion,
            outbox=outbox,
            clock=parts.clock,
            grace=grace,
            observer=parts.observer,
        ),
        delivery=DeliveryWorker(outbox, poll=settings.email_poll_seconds),
        resend=ResendService(outbox, changes),
        bulk=_bulk_resets(stores, settings, changes, outcomes, completion, chain, parts.clock),
        seed=(
            DemoSeed(stores.bridges, stores.users, changes, settings.demo_users)
            if settings.seed_demo
            else None
        ),
        embedded=settings.embedded,
        activity=ActivityService(ActivityRepository(database), parts.clock),
        live=live,
    )


def _live_feeds(stores: _Stores, settings: Settings, clock: Clock) -> LiveFeeds:
    """One tail per process of the trail and of the email records, for subscriptions."""
    poll, capacity = settings.live_poll_seconds, settings.live_queue_events
    return LiveFeeds(
        AuditTail(stores.entries, poll=poll, capacity=capacity),
        NotificationTail(stores.notes, clock, poll=poll, capacity=capacity),
    )


def _outbox(stores: _Stores, settings: Settings, parts: Parts) -> Outbox:
    """Emails: recorded first, handed to SMTP (or only recorded), retried with backoff."""
    return Outbox(
        stores.notes,
        parts.transport or load_transport(settings) or RecordOnlyTransport(),
        parts.clock,
        RetryPolicy(
            max_attempts=settings.email_max_attempts,
            base=timedelta(seconds=settings.email_retry_base_seconds),
        ),
        observer=parts.observer,
    )


def _changes(
    stores: _Stores,
    settings: Settings,
    parts: Parts,
    chain: AuditChain,
    completion: Completion,
    outcomes: OutcomeReader,
) -> ChangeService:
    """The change path and the use cases over it, with idempotency keys."""
    clock, wait = parts.clock, timedelta(seconds=settings.lock_wait_seconds)
    claims = Claims(stores.registry, parts.randbelow)
    refusals = Refusals(stores.users, chain, clock)
    path = ChangePath(
        users=stores.users, bridges=stores.bridges, registry=stores.registry,
        notes=stores.notes, claims=claims,
        locks=UserLocks(stores.users, completion, clock, wait), completion=completion,
        refusals=refusals, clock=clock, fault=parts.fault,
    )  # fmt: skip
    return ChangeService(
        path=path,
        idempotency=Idempotency(
            IdempotencyRepository(stores.database), outcomes, completion, clock, wait
        ),
        refusals=refusals, claims=claims, users=stores.users, bridges=stores.bridges,
        policy=Policy(send_emails_automatically=settings.send_emails_automatically),
        clock=clock,
    )  # fmt: skip


def _audit(
    stores: _Stores, settings: Settings, clock: Clock, signer: Signer | None
) -> AuditService:
    """Reads, exports and verification of the trail, and its signed checkpoints."""
    checkpoint_store = CheckpointRepository(stores.database)
    verifier = TrailVerifier(
        stores.entries,
        checkpoint_store,
        signer,
        load_previous_keys(settings),
        settings.signed_from_sequence,
    )
    checkpoints = CheckpointService(stores.entries, checkpoint_store, signer, clock, verifier)
    return AuditService(
        stores.entries, stores.notes, stores.users, AccessLogRepository(stores.database),
        checkpoints, clock, verifier,
    )  # fmt: skip


def build_vitals(database: Database, clock: Clock = utc_now) -> Vitals:
    """The reader of the database-backed gauges (the email backlog, the trail's head and
    newest checkpoint), over its own repositories."""
    return Vitals(
        NotificationRepository(database),
        AuditRepository(database),
        CheckpointRepository(database),
        clock,
    )


def _bulk_resets(
    stores: _Stores,
    settings: Settings,
    changes: ChangeService,
    outcomes: OutcomeReader,
    completion: Completion,
    chain: AuditChain,
    clock: Clock,
) -> BulkResetService:
    """Bulk resets: the API's service and this process's worker, over the change path."""
    users = stores.users
    jobs = BulkJobRepository(stores.database)
    trail = IncidentTrail(chain, clock)
    worker = BulkResetWorker(
        jobs=jobs, changes=changes, outcomes=outcomes, users=users, completion=completion,
        trail=trail, clock=clock,
        pacing=Pacing(
            rate=settings.bulk_reset_rate,
            lease=timedelta(seconds=settings.bulk_reset_lease_seconds),
            poll=settings.bulk_reset_poll_seconds,
        ),
    )  # fmt: skip
    return BulkResetService(
        jobs=jobs, selector=Selector(users, stores.bridges, stores.registry), trail=trail,
        worker=worker, entries=stores.entries, clock=clock,
        send_emails_automatically=settings.send_emails_automatically,
    )  # fmt: skip

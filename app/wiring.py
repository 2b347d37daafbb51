"""Wiring: building every repository and service of one app from settings.

The one place where parts are composed; no service builds or patches another.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.api.throttle import ApiLimits, RateLimiter, TrailLength
from app.domain.bucket import BucketSize
from app.domain.generator import RandomBelow
from app.domain.models import Role
from app.domain.retry import RetryPolicy
from app.domain.signing import Signer, SigningKeyError, load_public_pems
from app.notify.smtp import SmtpConfig, SmtpTransport
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
from app.services.identity import Authenticator, BrowserSignIn, IdentityClock
from app.services.jwks import Discovery, JwksFile, KeyCache, KeySet, KeySource, KeySourceError
from app.services.live import LiveFeeds
from app.services.locks import UserLocks
from app.services.observer import NO_OBSERVER, Observer
from app.services.oidc import OidcPolicy, OidcValidator
from app.services.outbox import Outbox
from app.services.outcomes import OutcomeReader
from app.services.recovery import RecoveryService
from app.services.refusals import Refusals
from app.services.resend import ResendService
from app.services.seed import DemoSeed
from app.services.steps import FaultHook, no_faults
from app.services.tail import AuditTail
from app.services.tokens import TokenRegistry
from app.services.verification import TrailVerifier
from app.services.vitals import Vitals
from app.settings import RateLimit, Settings
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

log = logging.getLogger("confid")


class StartupError(RuntimeError):
    """confid cannot start with this configuration; the message says why."""


def load_tokens(settings: Settings) -> TokenRegistry:
    """The bearer tokens: from CONFID_TOKENS_FILE, or one generated per role (embedded demo)."""
    if settings.tokens_file is not None:
        return TokenRegistry.from_file(settings.tokens_file)
    if settings.oidc and not settings.embedded:
        return TokenRegistry({})  # people sign in with the provider; no static tokens
    if not settings.embedded:
        raise StartupError(
            "CONFID_TOKENS_FILE is required with MONGODB_URL (generated demo tokens are only "
            "for the embedded store)."
        )
    registry, plain = TokenRegistry.generated()
    lines = "\n".join(f"    {role:<9} {token}" for role, token in plain.items())
    # Printed once to the console, never logged: these are the only copies.
    print(
        "\nconfid demo tokens (valid until this process exits); in GraphiQL add the header\n"
        '  {"Authorization": "Bearer <token>"}\n' + lines + "\n",
        file=sys.stderr,
        flush=True,
    )
    return registry


def _signer(settings: Settings) -> Signer | None:
    """The audit signing key: from a file or the environment; generated for the demo."""
    try:
        if settings.signing_key_file is not None:
            return Signer.from_pem(settings.signing_key_file.read_bytes())
        if settings.signing_key_pem is not None:
            return Signer.from_pem(settings.signing_key_pem.encode("ascii"))
    except (OSError, SigningKeyError, UnicodeEncodeError) as exc:
        raise StartupError(f"cannot load the audit signing key: {exc}") from None
    if settings.embedded:
        signer = Signer.generate()
        log.warning(
            "audit signing key generated for this process only (key id %s): set "
            "CONFID_SIGNING_KEY_FILE to keep signatures verifiable across restarts",
            signer.key_id,
        )
        return signer
    log.warning(
        "no audit signing key (CONFID_SIGNING_KEY_FILE): entries and checkpoints are not "
        "signed; deleting the newest entries would go undetected"
    )
    return None


def _previous_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """Public keys of earlier signing keys, so entries signed before a rotation verify."""
    if settings.previous_public_keys_file is None:
        return []
    try:
        return load_public_pems(settings.previous_public_keys_file.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, SigningKeyError) as exc:
        raise StartupError(f"cannot load CONFID_PREVIOUS_PUBLIC_KEYS_FILE: {exc}") from None


def _transport(settings: Settings) -> Transport | None:
    """SMTP when CONFID_SMTP_HOST is set; otherwise None (record-only)."""
    if settings.smtp_host is None:
        return None
    password = None
    if settings.smtp_password_file is not None:
        try:
            password = settings.smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StartupError(f"cannot read CONFID_SMTP_PASSWORD_FILE: {exc}") from None
    return SmtpTransport(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            ca_file=settings.smtp_ca_file,
            username=settings.smtp_username,
            password=password,
        )
    )


@dataclass(frozen=True, slots=True)
class Parts:
    """What a test or an embedder may replace; everything else comes from settings."""

    transport: Transport | None = None
    signer: Signer | None = None  # None: the key the settings name (or a generated one)
    clock: Clock = utc_now
    randbelow: RandomBelow = secrets.randbelow
    fault: FaultHook = no_faults
    observer: Observer = NO_OBSERVER  # the metrics, when they are on


def build_services(database: Database, settings: Settings, parts: Parts | None = None) -> Services:
    """Wire repositories and services over one database."""
    parts = parts or Parts()
    clock = parts.clock
    signer = parts.signer or _signer(settings)
    grace = timedelta(seconds=settings.recovery_grace_seconds)
    quarantine = (
        timedelta(days=settings.quarantine_days) if settings.quarantine_days is not None else None
    )
    users, bridges = UserRepository(database), BridgeRepository(database)
    registry = ConferenceIdRegistry(database, quarantine)
    entries, notes = AuditRepository(database), NotificationRepository(database)
    live = LiveFeeds(
        AuditTail(entries, poll=settings.live_poll_seconds, capacity=settings.live_queue_events),
        NotificationTail(
            notes, clock, poll=settings.live_poll_seconds, capacity=settings.live_queue_events
        ),
    )
    # Local appends wake this process's live tail at once.
    chain = AuditChain(entries, signer, parts.observer, on_append=live.audit.wake)
    outbox = Outbox(
        notes,
        parts.transport or _transport(settings) or RecordOnlyTransport(),
        clock,
        RetryPolicy(
            max_attempts=settings.email_max_attempts,
            base=timedelta(seconds=settings.email_retry_base_seconds),
        ),
        observer=parts.observer,
    )
    completion = Completion(
        users=users, bridges=bridges, registry=registry, chain=chain, outbox=outbox,
        clock=clock, grace=grace, fault=parts.fault, observer=parts.observer,
    )  # fmt: skip
    wait = timedelta(seconds=settings.lock_wait_seconds)
    claims = Claims(registry, parts.randbelow)
    refusals = Refusals(users, chain, clock)
    path = ChangePath(
        users=users, bridges=bridges, registry=registry, claims=claims,
        locks=UserLocks(users, completion, clock, wait), completion=completion,
        refusals=refusals, clock=clock, fault=parts.fault,
    )  # fmt: skip
    outcomes = OutcomeReader(entries, notes, users)
    changes = ChangeService(
        path=path,
        idempotency=Idempotency(
            IdempotencyRepository(database), outcomes, completion, clock, wait,
        ),
        refusals=refusals, claims=claims, users=users, bridges=bridges,
        policy=Policy(send_emails_automatically=settings.send_emails_automatically),
        clock=clock,
    )  # fmt: skip
    checkpoint_store = CheckpointRepository(database)
    verifier = TrailVerifier(
        entries, checkpoint_store, signer, _previous_keys(settings), settings.signed_from_sequence
    )
    checkpoints = CheckpointService(entries, checkpoint_store, signer, clock, verifier)
    audit = AuditService(
        entries, notes, users, AccessLogRepository(database), checkpoints, clock, verifier
    )
    return Services(
        database=database,
        directory=DirectoryService(users, bridges),
        changes=changes,
        audit=audit,
        recovery=RecoveryService(
            users=users,
            registry=registry,
            completion=completion,
            outbox=outbox,
            clock=clock,
            grace=grace,
            observer=parts.observer,
        ),
        delivery=DeliveryWorker(outbox, poll=settings.email_poll_seconds),
        resend=ResendService(outbox, changes),
        bulk=_bulk_resets(
            database,
            settings,
            (users, bridges, registry, entries),
            changes,
            outcomes,
            completion,
            chain,
            clock,
        ),
        seed=DemoSeed(bridges, users, changes, settings.demo_users) if settings.seed_demo else None,
        embedded=settings.embedded,
        activity=ActivityService(ActivityRepository(database), clock),
        live=live,
    )


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
    database: Database,
    settings: Settings,
    reads: tuple[UserRepository, BridgeRepository, ConferenceIdRegistry, AuditRepository],
    changes: ChangeService,
    outcomes: OutcomeReader,
    completion: Completion,
    chain: AuditChain,
    clock: Clock,
) -> BulkResetService:
    """Bulk resets: the API's service and this process's worker, over the change path."""
    users, bridges, registry, entries = reads
    jobs = BulkJobRepository(database)
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
        jobs=jobs, selector=Selector(users, bridges, registry), trail=trail, worker=worker,
        entries=entries, send_emails_automatically=settings.send_emails_automatically,
        clock=clock,
    )  # fmt: skip


def build_authenticator(
    settings: Settings, tokens: TokenRegistry, clock: IdentityClock
) -> Authenticator:
    """Static tokens, plus the OpenID provider's JWTs when CONFID_OIDC_ISSUER is set."""
    if settings.oidc_issuer is None:
        return Authenticator(tokens)
    issuer = settings.oidc_issuer
    policy = OidcPolicy.build(
        issuer,
        settings.oidc_audiences,
        roles_claim=settings.oidc_roles_claim,
        role_map=settings.oidc_role_map,
        username_claim=settings.oidc_username_claim,
        leeway=settings.oidc_leeway_seconds,
    )
    source: KeySource
    keys: KeySet | None = None
    if settings.oidc_jwks_file is not None:
        source = JwksFile(settings.oidc_jwks_file)
        try:
            keys = KeySet.parse(
                json.loads(settings.oidc_jwks_file.read_bytes()), source.description
            )
        except (OSError, ValueError, KeySourceError) as exc:
            raise StartupError(f"cannot load CONFID_OIDC_JWKS_FILE: {exc}") from None
        if not keys:
            raise StartupError(
                f"CONFID_OIDC_JWKS_FILE {settings.oidc_jwks_file} holds no RS256, ES256 or "
                "EdDSA signing key"
            )
    else:
        source = Discovery(issuer, settings.oidc_http_timeout_seconds)
    cache = KeyCache(
        source,
        min_interval=settings.oidc_jwks_refresh_seconds,
        max_age=settings.oidc_jwks_max_age_seconds,
        timeout=settings.oidc_http_timeout_seconds,
        monotonic=clock.monotonic,
        keys=keys,
    )
    sign_in = (
        BrowserSignIn(issuer, settings.oidc_client_id, settings.oidc_scopes)
        if settings.oidc_client_id
        else None
    )
    log.info(
        "accepting OpenID Connect tokens from %s for audience %s (keys: %s)",
        issuer,
        ", ".join(settings.oidc_audiences),
        source.description,
    )
    return Authenticator(tokens, OidcValidator(policy, cache, now=clock.wall), sign_in)


def _bucket(limit: RateLimit | None) -> BucketSize | None:
    return BucketSize(float(limit.points), float(limit.per_second)) if limit else None


def build_api_limits(
    settings: Settings, services: Services, monotonic: Callable[[], float]
) -> ApiLimits:
    """Rate limits per role, the maximum query cost, and the trail length pricing scans."""
    sizes = {
        Role.ADMIN: _bucket(settings.rate_limit_admin),
        Role.HELPDESK: _bucket(settings.rate_limit_helpdesk),
        Role.AUDITOR: _bucket(settings.rate_limit_auditor),
    }
    return ApiLimits(
        RateLimiter(sizes, monotonic),
        settings.max_query_cost,
        TrailLength(services.audit.trail_length, monotonic),
    )

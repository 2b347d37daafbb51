"""The app factory: settings, database, services, routes and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.export import AuditExport
from app.api.hygiene import ApiHeaders
from app.api.throttle import ApiLimits, RateLimiter, TrailLength
from app.api.view import GraphQLView
from app.domain.bucket import BucketSize
from app.domain.models import Role
from app.domain.signing import Signer, SigningKeyError, load_public_pems
from app.notify.smtp import SmtpConfig, SmtpTransport
from app.notify.transport import Transport
from app.services.container import Services, build_services
from app.services.steps import StepHook, no_checkpoint
from app.services.tokens import TokenRegistry
from app.settings import RateLimit, Settings
from app.store.database import Connection, connect
from app.web import web_routes

log = logging.getLogger("confid")


class StartupError(RuntimeError):
    """confid cannot start with this configuration; the message says why."""


def _tokens(settings: Settings) -> TokenRegistry:
    if settings.tokens_file is not None:
        return TokenRegistry.from_file(settings.tokens_file)
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
            username=settings.smtp_username,
            password=password,
        )
    )


def _bucket(limit: RateLimit | None) -> BucketSize | None:
    return BucketSize(float(limit.points), float(limit.per_second)) if limit else None


def _api_limits(
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


def create_app(
    settings: Settings | None = None,
    *,
    database: Any | None = None,
    transport: Transport | None = None,
    checkpoint: StepHook = no_checkpoint,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """Build confid. `database`, when given, is an open async database used as is;
    `monotonic` is the clock of the rate limits (tests freeze it)."""
    settings = settings or Settings.from_env()
    connection = (
        Connection(database, None, embedded=settings.embedded)
        if database is not None
        else connect(settings)
    )
    services = build_services(
        connection.database,
        settings,
        transport=transport or _transport(settings),
        checkpoint=checkpoint,
        signer=_signer(settings),
        previous_keys=_previous_keys(settings),
    )
    tokens = _tokens(settings)
    view = GraphQLView(
        services,
        tokens,
        _api_limits(settings, services, monotonic),
        body_timeout=settings.http_body_timeout_seconds,
    )
    audit_export = AuditExport(services, tokens)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        tasks = [
            asyncio.create_task(_sweep_forever(services, settings.sweep_interval_seconds)),
            asyncio.create_task(
                _checkpoint_forever(services, settings.checkpoint_interval_seconds)
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await connection.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if await services.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", view),
            Route("/audit/export", audit_export.export, methods=["GET"]),
            Route("/audit/public-key", audit_export.public_key, methods=["GET"]),
            *web_routes(),  # the admin page at /, its files, the GraphiQL build
        ],
        lifespan=lifespan,
        middleware=[Middleware(ApiHeaders)],
    )
    app.state.services = services
    return app


async def _checkpoint_forever(services: Services, interval: float) -> None:
    """Sign the chain head every interval, even when nothing changed."""
    while True:
        await asyncio.sleep(interval)
        try:
            await services.audit.checkpoints.create()
        except Exception:
            log.exception("audit checkpoint failed; retrying in %.0f s", interval)


async def _sweep_forever(services: Services, interval: float) -> None:
    """The periodic recovery sweep; a failing pass is logged and retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await services.recovery.sweep()
        except Exception:
            log.exception("recovery sweep failed; retrying in %.0f s", interval)

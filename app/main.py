"""The app factory: settings, database, services (wired in `app.wiring`), routes, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from app.api.auth import auth_config
from app.api.capacity import Capacity, RequestCapacity
from app.api.export import AuditExport
from app.api.hygiene import ApiHeaders
from app.api.origin import RequestOrigin
from app.api.view import GraphQLView
from app.notify.transport import Transport
from app.services.container import Services
from app.services.identity import Authenticator, IdentityClock
from app.services.observer import NO_OBSERVER
from app.services.readiness import Readiness
from app.services.steps import FaultHook, no_faults
from app.settings import Settings
from app.store.database import Connection, Database, connect
from app.store.timing import TimedDatabase
from app.telemetry.exposition import PATH as METRICS_PATH
from app.telemetry.exposition import MetricsListener, metrics_endpoint
from app.telemetry.metrics import Metrics
from app.telemetry.operations import committed_operations
from app.telemetry.requests import RequestTelemetry
from app.web import web_routes
from app.web.graphiql import graphiql_response
from app.web.headers import PagePolicies
from app.web.paths import OPERATIONS_DIR
from app.wiring import (
    Parts,
    StartupError,
    build_api_limits,
    build_authenticator,
    build_live_policy,
    build_services,
    build_vitals,
    load_tokens,
)

__all__ = ["StartupError", "create_app"]

log = logging.getLogger("confid")

VITALS_TTL_SECONDS = 5.0  # the database-backed gauges are read at most this often
READY_TTL_SECONDS = 1.0  # /readyz pings the database at most this often


@dataclass(frozen=True, slots=True)
class _App:
    """The parts of one app that its routes and lifespan share."""

    settings: Settings
    connection: Connection
    services: Services
    authenticator: Authenticator
    metrics: Metrics | None
    listener: MetricsListener | None  # /metrics on its own port, when configured
    view: GraphQLView
    export: AuditExport
    policies: PagePolicies
    ready: Readiness  # /readyz


def create_app(
    settings: Settings | None = None,
    *,
    database: Any | None = None,
    transport: Transport | None = None,
    fault: FaultHook = no_faults,
    identity_clock: IdentityClock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """Build confid. `database`, when given, is an open async database used as is;
    `monotonic` is the clock of the rate limits and of /readyz's reuse (tests freeze it)."""
    settings = settings or Settings.from_env()
    connection = (
        Connection(database, None, embedded=settings.embedded)
        if database is not None
        else connect(settings.mongodb_url, settings.database_name)
    )
    metrics = Metrics(committed_operations(OPERATIONS_DIR)) if settings.metrics else None
    services = build_services(
        _timed(connection.database, metrics),
        settings,
        Parts(transport=transport, fault=fault, observer=metrics or NO_OBSERVER),
    )
    authenticator = build_authenticator(
        settings, load_tokens(settings), identity_clock or IdentityClock()
    )
    # The pages may reach the OpenID provider only when the browser sign-in is configured.
    sign_in = authenticator.sign_in
    policies = PagePolicies.for_sign_in(sign_in.issuer if sign_in else None)
    # Requests in progress are bounded here; /graphql counts its own once the body is in.
    capacity = Capacity(settings.http_max_concurrency)
    refused = metrics.refused if metrics is not None else _not_counted
    limits = build_api_limits(settings, services, monotonic)
    view = GraphQLView(
        services,
        authenticator,
        limits,
        build_live_policy(settings, authenticator.clock.wall, refused),
        partial(graphiql_response, csp=policies.graphiql),
        body_timeout=settings.http_body_timeout_seconds,
        capacity=capacity,
    )
    parts = _App(
        settings, connection, services, authenticator, metrics, _listener(settings, metrics),
        view, AuditExport(services, authenticator, limits), policies,
        Readiness(services.ready, READY_TTL_SECONDS, monotonic),
    )  # fmt: skip
    app = Starlette(
        routes=_routes(parts),
        middleware=[
            Middleware(RequestOrigin, trusted_proxies=settings.trusted_proxies),
            Middleware(RequestTelemetry, metrics=metrics),  # one log line per request
            Middleware(ApiHeaders),
            Middleware(RequestCapacity, capacity=capacity, own=("/graphql",)),
        ],
        lifespan=partial(_lifespan, parts),
    )
    app.state.services = services
    app.state.authenticator = authenticator
    app.state.metrics = metrics
    return app


def _not_counted(limit: str) -> None:
    """Refusals of websockets are counted only with metrics on."""


def _timed(database: Database, metrics: Metrics | None) -> Database:
    """With metrics on, every database round trip is timed and the gauges are read."""
    if metrics is None:
        return database
    timed = TimedDatabase(database, metrics.database_timer)
    metrics.watch_vitals(build_vitals(timed).read, VITALS_TTL_SECONDS)
    return timed


def _listener(settings: Settings, metrics: Metrics | None) -> MetricsListener | None:
    if metrics is None or settings.metrics_port is None:
        return None
    return MetricsListener(metrics, settings.metrics_host or settings.host, settings.metrics_port)


def _routes(parts: _App) -> list[BaseRoute]:
    view, export = parts.view, parts.export

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if await parts.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    metrics_here = parts.metrics is not None and parts.listener is None
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),  # subscriptions (graphql-transport-ws)
        Route("/audit/export", export.export, methods=["GET"]),
        Route("/audit/public-key", export.public_key, methods=["GET"]),
        Route("/auth/config", auth_config(parts.authenticator), methods=["GET"]),
        *web_routes(csp=parts.policies.admin),  # the admin page at /, its files, the build
        *([Route(METRICS_PATH, metrics_endpoint(parts.metrics), methods=["GET"])]
          if metrics_here and parts.metrics is not None else []),
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def _lifespan(parts: _App, app: Starlette) -> AsyncIterator[None]:
    """Start-up (recovery, seeding, the first checkpoint), the background work, shut-down."""
    services, settings = parts.services, parts.settings
    if parts.listener is not None:  # first: a taken port stops start-up before any work
        await parts.listener.start()
    await services.start()
    parts.authenticator.start()
    loops = [
        asyncio.create_task(
            _forever("recovery sweep", services.recovery.sweep, settings.sweep_interval_seconds)
        ),
        # Sign the chain head every interval, even when nothing changed.
        asyncio.create_task(
            _forever(
                "audit checkpoint",
                services.audit.checkpoints.create,
                settings.checkpoint_interval_seconds,
            )
        ),
    ]
    delivery = asyncio.create_task(services.delivery.run_forever())
    bulk = asyncio.create_task(services.bulk.worker.run_forever())
    try:
        yield
    finally:
        # The user under way is finished, then the job's lease is given back, so another
        # process (or the next start) resumes it at once.
        services.bulk.worker.stop()
        await bulk
        # Attempts under way finish (each is bounded by the SMTP attempt timeout): one cut
        # off mid-hand-over could only be marked FAILED, delivery unknown.
        services.delivery.stop()
        await delivery
        await services.live.close()  # live subscribers are told confid is stopping
        for task in loops:
            task.cancel()
        for task in loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if parts.listener is not None:
            await parts.listener.stop()
        await parts.authenticator.close()
        await parts.connection.close()


async def _forever(what: str, job: Callable[[], Awaitable[object]], interval: float) -> None:
    """Run `job` every `interval` seconds; a failing run is logged and retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await job()
        except Exception:
            log.exception("%s failed; retrying in %.0f s", what, interval)

"""The app factory: settings, database, services (wired in `app.wiring`), routes, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from app.api.auth import auth_config
from app.api.export import AuditExport
from app.api.origin import RequestOrigin
from app.api.view import GraphQLView
from app.notify.transport import Transport
from app.services.identity import IdentityClock
from app.services.steps import FaultHook, no_faults
from app.settings import Settings
from app.store.database import Connection, connect
from app.web import web_routes
from app.web.graphiql import graphiql_response
from app.wiring import Parts, StartupError, build_authenticator, build_services, load_tokens

__all__ = ["StartupError", "create_app"]

log = logging.getLogger("confid")


def create_app(
    settings: Settings | None = None,
    *,
    database: Any | None = None,
    transport: Transport | None = None,
    fault: FaultHook = no_faults,
    identity_clock: IdentityClock | None = None,
) -> Starlette:
    """Build confid. `database`, when given, is an open async database used as is."""
    settings = settings or Settings.from_env()
    connection = (
        Connection(database, None, embedded=settings.embedded)
        if database is not None
        else connect(settings.mongodb_url, settings.database_name)
    )
    services = build_services(
        connection.database, settings, Parts(transport=transport, fault=fault)
    )
    authenticator = build_authenticator(
        settings, load_tokens(settings), identity_clock or IdentityClock()
    )
    view = GraphQLView(
        services,
        authenticator,
        graphiql_response,
        subscriptions_per_connection=settings.subscriptions_per_connection,
        subscriptions_per_token=settings.subscriptions_per_token,
    )
    audit_export = AuditExport(services, authenticator)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        authenticator.start()
        tasks = [
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
        try:
            yield
        finally:
            # Attempts under way finish (each is bounded by the SMTP attempt timeout): one
            # cut off mid-hand-over could only be marked FAILED, delivery unknown.
            services.delivery.stop()
            await delivery
            await services.live.close()  # live subscribers are told confid is stopping
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await authenticator.close()
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
            WebSocketRoute("/graphql", view),  # subscriptions (graphql-transport-ws)
            Route("/audit/export", audit_export.export, methods=["GET"]),
            Route("/audit/public-key", audit_export.public_key, methods=["GET"]),
            Route("/auth/config", auth_config(authenticator), methods=["GET"]),
            *web_routes(),  # the admin page at /, its files, the GraphiQL build
        ],
        middleware=[Middleware(RequestOrigin, trusted_proxies=settings.trusted_proxies)],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.authenticator = authenticator
    return app


async def _forever(what: str, job: Callable[[], Awaitable[object]], interval: float) -> None:
    """Run `job` every `interval` seconds; a failing run is logged and retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await job()
        except Exception:
            log.exception("%s failed; retrying in %.0f s", what, interval)

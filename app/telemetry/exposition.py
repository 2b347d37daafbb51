"""Serving `/metrics`: on the main port (CONFID_METRICS=on), or on a port of its own
(CONFID_METRICS_PORT), where nothing else is served.

The port of its own is a second uvicorn server on the same event loop, started and
stopped by the app's lifespan, so a scrape can await the database-backed gauges like any
request. Each confid process serves its own figures: with several processes, scrape each
one (a process per container, or a port per process); see docs/operations.md.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.origin import RequestOrigin
from app.telemetry.metrics import Metrics
from app.telemetry.requests import RequestTelemetry

log = logging.getLogger("confid.telemetry")

PATH = "/metrics"


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    """`GET /metrics`: the Prometheus text format (or OpenMetrics when asked for)."""

    async def endpoint(request: Request) -> Response:
        body, content_type = await metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return endpoint


def metrics_app(metrics: Metrics) -> Starlette:
    """The app of the port of its own: `/metrics` and nothing else (404)."""
    return Starlette(
        routes=[Route(PATH, metrics_endpoint(metrics), methods=["GET"])],
        middleware=[Middleware(RequestOrigin), Middleware(RequestTelemetry, metrics=metrics)],
    )


class MetricsListener:
    """`/metrics` on `host:port`, served from the running event loop until `stop`."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            metrics_app(metrics),
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,  # RequestTelemetry logs scrapes (at DEBUG)
            server_header=False,
            date_header=False,
        )
        config.load()
        self._server = uvicorn.Server(config)
        self._sockets: list[socket.socket] = []

    async def start(self) -> None:
        """Listen; an address in use stops confid's start-up with a clear message."""
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.create_server((self.host, self.port), family=family)
        except OSError as exc:
            raise OSError(
                f"cannot serve metrics on {self.host}:{self.port} (CONFID_METRICS_PORT): {exc}"
            ) from None
        self._sockets = [sock]
        # `serve` would also take over the process's signals, which belong to the main
        # server: start and stop this one directly (no lifespan of its own). Given
        # sockets, uvicorn logs no "running on" line; the start-up banner names it.
        self._server.lifespan = self._server.config.lifespan_class(self._server.config)
        await self._server.startup(sockets=self._sockets)

    async def stop(self) -> None:
        """Stop listening and close open scrape connections."""
        if self._sockets:
            await self._server.shutdown(sockets=self._sockets)
            self._sockets = []

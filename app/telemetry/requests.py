"""The request middleware: one log line and the request metrics for every HTTP request.

It runs inside `RequestOrigin` (so the request id and client address are decided), puts
an empty `Exchange` in `scope["state"]` for the routes to fill in, and when the app is
done writes the line and counts the request. It replaces uvicorn's access log (turned off
in `app.__main__`). The line never holds a token, a header, the query string, variables
or a body: only what `ACCESS_KEYS` lists.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.exchange import Exchange
from app.telemetry.logs import bounded_path, log_request
from app.telemetry.metrics import Metrics

# Requests that go well on these are logged at DEBUG: probes, scrapes and static files
# would otherwise drown the lines a person reads.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
QUIET_PREFIXES = ("/static/",)
UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """The path pattern of the route that answered (`unmatched` when none did)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestTelemetry:
    """ASGI middleware: times each HTTP request, then logs and counts it once."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange()
        scope.setdefault("state", {})["exchange"] = exchange
        status = 0
        start = perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # An exception that escaped the app is answered 500 by Starlette outside us.
            self._finished(scope, status or 500, perf_counter() - start, exchange)

    def _finished(self, scope: Scope, status: int, seconds: float, exchange: Exchange) -> None:
        route = route_of(scope)
        if self.metrics is not None:
            self.metrics.request_finished(route, scope["method"], status, seconds, exchange)
        state: dict[str, Any] = scope.get("state", {})
        path: str = scope.get("path", "")
        log_request(
            {
                "method": scope["method"],
                "path": bounded_path(path),
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "request_id": state.get("request_id"),
                "client_request_id": state.get("client_request_id"),
                "operation": exchange.operation_name,
                "operation_type": exchange.operation_type,
                "actor": exchange.actor,
                "errors": list(exchange.error_codes),
                "throttled": exchange.throttled,
                "client_ip": state.get("client_ip"),
            },
            quiet=status < 400 and (route in QUIET_ROUTES or path.startswith(QUIET_PREFIXES)),
        )

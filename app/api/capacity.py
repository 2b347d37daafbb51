"""Requests in progress, bounded per process (CONFID_HTTP_MAX_CONCURRENCY).

A request counts from the moment confid starts working on it until its answer starts:
for /graphql once its body has arrived (the view counts it then, so a client that trickles
a body holds no place), for the other routes from their arrival. Idle keep-alive
connections, websockets, a streamed answer on its way out, `/healthz` and `/readyz`
count for nothing. Past the limit a request is answered at once with HTTP 503,
`Retry-After: 1` and the usual JSON error (`INTERNAL`, like a database outage: the
service, not the client, is the problem), counted as `confid_throttled_requests_total
{limit="concurrency"}` and named in its log line. Open connections are capped apart,
far above it (CONFID_HTTP_MAX_CONNECTIONS, and per address: `app.admission`, applied by the
protocol classes of `app.server` when a connection is accepted).
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import INTERNAL, top_level_error
from app.api.exchange import note_throttled

EXEMPT = frozenset({"/healthz", "/readyz"})  # probes answer whatever the load
LIMIT = "concurrency"  # the `limit` label of the refusals
RETRY_AFTER_SECONDS = 1


class Capacity:
    """Requests in progress in this process, at most `limit` (None: unlimited); or, with
    `what` and `label`, some other kind of work (audit exports streaming: `app.api.export`),
    refused the same way and counted under `label`."""

    def __init__(
        self,
        limit: int | None,
        what: str = "requests",
        label: str = LIMIT,
        retry_after: int = RETRY_AFTER_SECONDS,
    ) -> None:
        self.limit = limit
        self.what = what
        self.label = label
        self.retry_after = retry_after
        self.in_progress = 0

    def enter(self) -> bool:
        """Take a place; False when all `limit` are taken."""
        if self.limit is not None and self.in_progress >= self.limit:
            return False
        self.in_progress += 1
        return True

    def leave(self) -> None:
        self.in_progress -= 1

    def busy(self, scope: Scope) -> Response:
        """The answer to a request that found no place (counted as a refusal)."""
        note_throttled(scope, self.label)
        request_id = scope.get("state", {}).get("request_id")
        message = (
            f"confid is busy: {self.limit} {self.what} are in progress in this process; "
            f"retry in {self.retry_after} s."
        )
        return JSONResponse(
            top_level_error(INTERNAL, message, request_id),
            status_code=503,
            headers={"Retry-After": str(self.retry_after)},
        )


class RequestCapacity:
    """ASGI middleware: each HTTP request takes a place in `capacity` on arrival and gives
    it back when its answer starts. Paths in `own` are let through: their route takes its
    place itself (the /graphql view, once the body is in)."""

    def __init__(self, app: ASGIApp, capacity: Capacity, own: Collection[str] = ()) -> None:
        self.app = app
        self.capacity = capacity
        self.own = frozenset(own)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT or path in self.own:
            await self.app(scope, receive, send)
            return
        capacity = self.capacity
        if not capacity.enter():
            await capacity.busy(scope)(scope, receive, send)
            return
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                capacity.leave()

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            release()

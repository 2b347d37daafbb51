"""Subscriptions over `graphql-transport-ws` on /graphql: the connection's life.

- `connection_init` carries the token: `{"Authorization": "Bearer <token>"}`. A missing,
  malformed or unknown token closes the socket with 4401, a token without a role with 4403
  (the protocol's codes), an unreachable identity provider with 1013 (try again later).
- Only subscriptions run over the socket (queries and mutations go to POST /graphql, where
  the body limits and one access-log record per request apply).
- At most `per_connection` subscriptions on one socket and `per_token` over all the sockets
  of one caller in this process; each start takes SUBSCRIPTION_COST points from the
  token's rate-limit bucket (THROTTLED when it lacks them), and the document passes the
  same depth, alias and cost rules as any query.
- Errors carry `extensions.code` and the connection's request id, internal ones masked,
  exactly as over HTTP; reads of the trail made while resolving an event are recorded.
- A subscriber that falls behind is dropped by closing the socket with 1013 and a reason
  (a stalled client does not read the socket at all, so nothing else would reach it).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    NextMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult

from app.api.auth import request_meta
from app.api.context import Context
from app.api.errors import BAD_REQUEST, THROTTLED, format_error
from app.api.field_costs import SUBSCRIPTION
from app.api.throttle import ApiLimits
from app.domain.access import Principal
from app.domain.errors import BadRequest, Forbidden, IdentityUnavailable, Unauthenticated

log = logging.getLogger("confid.live")

UNAUTHORIZED = 4401  # graphql-transport-ws: no usable token
FORBIDDEN = 4403  # graphql-transport-ws: a token without a role
TRY_AGAIN_LATER = 1013  # RFC 6455: a temporary condition (slow subscriber, provider down)
_QUERY_TOKEN_PARAMS = ("access_token", "token", "bearer", "authorization", "api_key")

# What starting one subscription costs in the cost model (app.api.limits), in the same
# units as a query: it holds a slot, a queue and a share of the tail until it ends.
SUBSCRIPTION_COST = SUBSCRIPTION  # points a subscription takes from its token's bucket


class TokenSlots:
    """Subscriptions open per caller (token name) in this process, bounded."""

    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        self._open: Counter[str] = Counter()

    def check(self, principal: Principal) -> None:
        """BadRequest when `principal` has no slot left."""
        if self._open[principal.name] >= self.per_token:
            raise BadRequest(
                f"At most {self.per_token} subscriptions may be open at once for one token; "
                "complete one first."
            )

    @asynccontextmanager
    async def hold(self, principal: Principal) -> AsyncIterator[None]:
        """A slot for one subscription of `principal`, for as long as it runs."""
        self.check(principal)
        self._open[principal.name] += 1
        try:
            yield
        finally:
            self._open[principal.name] -= 1
            if not self._open[principal.name]:
                del self._open[principal.name]


class LiveConnection:
    """What a subscription may do to its socket: close it when it fell behind."""

    def __init__(self, close: Callable[[int, str], Any]) -> None:
        self._close = close
        self._closing: asyncio.Task[Any] | None = None

    def drop(self, reason: str) -> None:
        if self._closing is None:
            log.warning("closing a live connection: %s", reason)
            self._closing = asyncio.ensure_future(self._close(TRY_AGAIN_LATER, reason[:120]))


@dataclass(slots=True)
class LiveContext(Context):
    """The context of one websocket connection, shared by its subscriptions."""

    websocket: WebSocket | None = None
    authenticate: Callable[[str], Awaitable[Principal]] | None = None
    slots: TokenSlots | None = None
    per_connection: int = 10
    limits: ApiLimits | None = None  # the token buckets that subscription starts draw on
    connection: LiveConnection | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)

    def forget_loaded(self) -> None:
        """Start each event with empty loaders: a connection lives for hours, and users
        and entries change under it."""
        self._users = self._bridges = self._events = self._latest = None

    def slots_free(self) -> None:
        """BadRequest unless the caller may open one more subscription."""
        if self.slots is None or self.principal is None:
            raise BadRequest("Subscriptions run over a websocket (graphql-transport-ws).")
        self.slots.check(self.principal)

    @property
    def live(self) -> LiveConnection:
        if self.connection is None or self.slots is None:
            raise BadRequest("Subscriptions run over a websocket (graphql-transport-ws).")
        return self.connection


def is_subscription(query: object, operation_name: object) -> bool:
    """True when the document's operation to run is a subscription (the common case, a
    document without the word, is decided without parsing)."""
    if not isinstance(query, str) or "subscription" not in query:
        return False
    try:
        document = parse(query, max_tokens=2000)
    except GraphQLError:
        return False  # the request pipeline reports the syntax error
    name = operation_name if isinstance(operation_name, str) else None
    operation = get_operation_ast(document, name)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


def bearer(params: dict[str, Any]) -> str:
    """The token in a `connection_init` payload; Unauthenticated without a usable one."""
    header = next((v for k, v in params.items() if k.lower() == "authorization"), None)
    if not isinstance(header, str) or not header:
        raise Unauthenticated(
            'Missing token: send {"Authorization": "Bearer <token>"} in connection_init.'
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Malformed Authorization: use `Bearer <token>`.")
    return token.strip()


class _Operation(Operation[Context, None]):
    """Results and errors formatted as over HTTP (codes, request id, masking)."""

    async def send_initial_errors(self, errors: list[GraphQLError]) -> None:
        handler: LiveHandler = self.handler  # type: ignore[assignment]
        payload = [format_error(e, handler.request_id) for e in errors]
        await self.send_operation_message(
            cast("ErrorMessage", {"id": self.id, "type": "error", "payload": payload})
        )

    async def send_next(self, execution_result: ExecutionResult) -> None:
        handler: LiveHandler = self.handler  # type: ignore[assignment]
        payload: dict[str, Any] = {"data": execution_result.data}
        if execution_result.errors:
            payload["errors"] = [
                format_error(e, handler.request_id) for e in execution_result.errors
            ]
        await self.send_operation_message(
            cast("NextMessage", {"id": self.id, "type": "next", "payload": payload})
        )
        await handler.context.flush_audit_reads()  # reads made while resolving this event


class LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws as Strawberry speaks it, with confid's rules at the edges."""

    context: LiveContext

    @property
    def request_id(self) -> str:
        return self.context.request_id

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if self.connection_init_received or not isinstance(payload, dict):
            await super().handle_connection_init(message)  # 4429 / 4400, as the protocol says
            return
        try:
            principal = await self._authenticate(payload)
        except (Unauthenticated, Forbidden, IdentityUnavailable) as exc:
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            code = (
                FORBIDDEN
                if isinstance(exc, Forbidden)
                else TRY_AGAIN_LATER
                if isinstance(exc, IdentityUnavailable)
                else UNAUTHORIZED
            )
            await self.websocket.close(code=code, reason=str(exc)[:120])
            return
        assert self.context.websocket is not None
        self.context.principal = principal
        self.context.meta = request_meta(self.context.websocket, principal)
        self.context.connection_params = payload
        self.context.connection = LiveConnection(self.websocket.close)
        await super().handle_connection_init(message)

    async def _authenticate(self, payload: dict[str, Any]) -> Principal:
        websocket, authenticate = self.context.websocket, self.context.authenticate
        assert websocket is not None and authenticate is not None
        if any(p in websocket.query_params for p in _QUERY_TOKEN_PARAMS):
            raise Unauthenticated("Tokens are never accepted in the query string.")
        return await authenticate(bearer(payload))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # 4401 / 4409, as the protocol says
            return
        code, refusal = BAD_REQUEST, self._refusal(message)
        if refusal is None:
            code, refusal = THROTTLED, self._throttled()
        if refusal is not None:
            error = {
                "message": refusal,
                "extensions": {"code": code, "requestId": self.request_id},
            }
            await self.send_message(
                cast("ErrorMessage", {"id": message["id"], "type": "error", "payload": [error]})
            )
            return
        operation = _Operation(
            self,
            message["id"],
            message["payload"]["query"],
            message["payload"].get("variables"),
            message["payload"].get("operationName"),
        )
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[message["id"]] = operation

    def _throttled(self) -> str | None:
        """A subscription start draws SUBSCRIPTION_COST points from the token's bucket, like
        a query; None when they are there (taken), the refusal's words when not."""
        limits, principal = self.context.limits, self.context.principal
        if limits is None or principal is None:
            return None
        wait = limits.limiter.take(principal, SUBSCRIPTION_COST)
        if wait <= 0:
            return None
        retry = 60 if math.isinf(wait) else max(1, math.ceil(wait))
        return (
            f"Rate limit: this token's bucket lacks the {SUBSCRIPTION_COST} points a "
            f"subscription costs; retry in {retry} s (see `rateLimit`)."
        )

    def _refusal(self, message: SubscribeMessage) -> str | None:
        """Why this subscribe message is refused before it runs, if it is."""
        limit = self.context.per_connection
        if len(self.operations) >= limit:
            return f"At most {limit} subscriptions may run on one connection."
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return None  # the protocol's own checks answer
        try:
            document = parse(query, max_tokens=2000)
        except GraphQLError:
            return None  # a syntax error closes the socket (4400), as the protocol says
        name = payload.get("operationName") if isinstance(payload, dict) else None
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
            return (
                "Only subscriptions run over the websocket: send queries and mutations "
                "with POST /graphql."
            )
        return None

"""Subscriptions over `graphql-transport-ws` on /graphql: the connection's life.

- A socket arrives: its address may have at most CONFID_WEBSOCKETS_UNAUTHENTICATED_PER_ADDRESS
  sockets that have not sent `connection_init` yet; one more is closed with 1013 (try again
  later: the others are seconds from authenticating or from their 15 s deadline, 4408).
- `connection_init` carries the token: `{"Authorization": "Bearer <token>"}`. A missing,
  malformed or unknown token closes the socket with 4401, a token without a role with 4403
  (the protocol's codes), an unreachable identity provider with 1013 (try again later).
  A token may hold at most CONFID_WEBSOCKETS_PER_TOKEN sockets; one more closes with 4429.
- The token is checked once, so the socket keeps its expiry: when the token expires (a
  static token's `expires`, a JWT's `exp` plus the leeway) the socket closes with 4401,
  on a timer, and nothing resolved after that moment is sent.
- A socket that runs no subscription for CONFID_WEBSOCKET_IDLE_SECONDS closes with 1000.
- Only subscriptions run over the socket (queries and mutations go to POST /graphql, where
  the body limits and one access-log record per request apply).
- At most `per_connection` subscriptions on one socket and `per_token` over all the sockets
  of one caller in this process. The document passes the same depth, alias and cost rules
  as any query, and each start takes SUBSCRIPTION_COST points from the token's bucket
  (THROTTLED when it lacks them): both in `app.api.limits`.
- Errors carry `extensions.code` and the connection's request id, internal ones masked,
  exactly as over HTTP; reads of the trail made while resolving an event are recorded.
- A subscriber that falls behind is dropped by closing the socket with 1013 and a reason
  (a stalled client does not read the socket at all, so nothing else would reach it).
- Refusals by a limit are counted with `refused(limit)` (confid_throttled_requests_total).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from graphql import GraphQLError, OperationType, get_operation_ast
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

from app.api.auth import refuse_query_tokens, request_meta
from app.api.context import Context
from app.api.errors import BAD_REQUEST, QUERY_TOO_COMPLEX, THROTTLED, format_error
from app.api.limits import parsed, subscription_maximum
from app.api.live_context import (
    EXPIRED,
    FORBIDDEN,
    NORMAL,
    TOO_MANY,
    TRY_AGAIN_LATER,
    UNAUTHORIZED,
    LiveConnection,
    LiveContext,
    LivePolicy,
)
from app.api.live_limits import SocketPass
from app.api.throttle import retry_seconds
from app.domain.access import Principal
from app.domain.errors import Forbidden, IdentityUnavailable, QueryTooComplex, Unauthenticated

__all__ = ["LiveContext", "LiveHandler", "LivePolicy", "is_subscription"]

# The expiry timer sleeps until the token's expiry, but wakes at least this often to read
# the wall clock again (it may be stepped, e.g. by NTP, while the timer sleeps).
EXPIRY_RECHECK_SECONDS = 10.0


def is_subscription(query: object, operation_name: object) -> bool:
    """True when the document's operation to run is a subscription (the common case, a
    document without the word, is decided without parsing)."""
    if not isinstance(query, str) or "subscription" not in query:
        return False
    try:
        document = parsed(query)
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
        if handler.context.expired():  # nothing is answered on behalf of an expired token
            handler.close(UNAUTHORIZED, EXPIRED)
            return
        payload = [format_error(e, handler.request_id) for e in errors]
        if any(error["extensions"]["code"] == THROTTLED for error in payload):
            handler.refused("token_bucket")
        await self.send_operation_message(
            cast("ErrorMessage", {"id": self.id, "type": "error", "payload": payload})
        )

    async def send_next(self, execution_result: ExecutionResult) -> None:
        handler: LiveHandler = self.handler  # type: ignore[assignment]
        if handler.context.expired():  # the timer may not have fired yet: send nothing
            handler.close(UNAUTHORIZED, EXPIRED)
            return
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
    _place: SocketPass | None = None
    _expiry: asyncio.Task[None] | None = None
    _idle: asyncio.TimerHandle | None = None
    _over = False  # shut down: no timer is armed again

    @property
    def request_id(self) -> str:
        return self.context.request_id

    @property
    def policy(self) -> LivePolicy:
        assert self.context.policy is not None
        return self.context.policy

    def refused(self, limit: str) -> None:
        self.policy.refused(limit)

    def close(self, code: int, reason: str) -> None:
        """Close the socket soon (once), from anywhere: a timer, a subscription."""
        assert self.context.connection is not None
        self.context.connection.close(code, reason)

    async def handle(self) -> None:
        assert self.context.websocket is not None
        self.context.connection = LiveConnection(self.websocket.close)
        address = self.context.websocket.scope.get("state", {}).get("client_ip")
        self._place = self.policy.sockets.arrive(address)
        if self._place is None:
            self.refused("websockets_per_address")
            limit = self.policy.sockets.unauthenticated_per_address
            await self.websocket.close(
                TRY_AGAIN_LATER,
                f"{limit} websockets from this address are waiting for connection_init; "
                "try again shortly.",
            )
            return
        try:
            await super().handle()
        finally:
            self._place.leave()

    async def shutdown(self) -> None:
        self._over = True
        if self._expiry is not None:
            self._expiry.cancel()
        if self._idle is not None:
            self._idle.cancel()
        await super().shutdown()

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
        assert self.context.websocket is not None and self._place is not None
        if not self._place.authenticated(principal):
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            self.refused("websockets_per_token")
            limit = self.policy.sockets.per_token
            await self.websocket.close(
                TOO_MANY, f"At most {limit} websockets may be open at once for one token."
            )
            return
        self.context.principal = principal
        self.context.meta = request_meta(self.context.websocket, principal)
        self.context.connection_params = payload
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            if principal.expires is not None:
                self._expiry = asyncio.create_task(self._expire_at(principal.expires))
            self._watch_idle()

    async def _authenticate(self, payload: dict[str, Any]) -> Principal:
        websocket, authenticate = self.context.websocket, self.context.authenticate
        assert websocket is not None and authenticate is not None
        refuse_query_tokens(websocket)  # as over HTTP: any case or spelling
        return await authenticate(bearer(payload))

    async def _expire_at(self, expires: float) -> None:
        """Close the socket with 4401 once the token has expired by the identity clock."""
        wall = self.policy.wall
        while (left := expires - wall()) > 0:
            await asyncio.sleep(min(left, EXPIRY_RECHECK_SECONDS))
        self.close(UNAUTHORIZED, EXPIRED)

    def _watch_idle(self) -> None:
        """Arm the idle timer when no subscription runs; disarm it when one does."""
        if self.operations or self._over:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
        elif self._idle is None and self.connection_acknowledged:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self.policy.idle_seconds, self._idle_over)

    def _idle_over(self) -> None:
        self._idle = None
        if not self.operations:
            seconds = self.policy.idle_seconds
            self.close(NORMAL, f"Idle: no subscription ran for {seconds:g} s.")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # 4401 / 4409, as the protocol says
            return
        if self.context.expired():  # the timer may not have fired yet
            self.close(UNAUTHORIZED, EXPIRED)
            return
        refusal = self._refusal(message)
        if refusal is not None:
            await self.send_message(
                cast("ErrorMessage", {"id": message["id"], "type": "error", "payload": [refusal]})
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
        self._watch_idle()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            await super().run_operation(operation)
        finally:
            self._watch_idle()

    def forget_id(self, id: str) -> None:
        super().forget_id(id)
        self._watch_idle()

    async def cleanup_operation(self, operation_id: str) -> None:
        await super().cleanup_operation(operation_id)
        self._watch_idle()

    def _refusal(self, message: SubscribeMessage) -> dict[str, Any] | None:
        """The error that refuses this subscribe message before it runs, if one does. Like
        a refused request over HTTP, a refusal takes a point from the caller's bucket, and
        an empty bucket is THROTTLED before the document is even parsed."""
        context = self.context
        limits, principal = context.limits, context.principal
        assert limits is not None and principal is not None
        wait = limits.limiter.wait(principal, 1)
        if wait > 0:
            self.refused("token_bucket")
            retry = retry_seconds(wait)
            return self._error(
                THROTTLED, f"Rate limit: this token's bucket is empty; retry in {retry} s."
            )
        refused = self._why_refused(message)
        if refused is None:
            return None
        limits.limiter.take(principal, 1)
        error = self._error(*refused)
        if refused[0] == QUERY_TOO_COMPLEX:  # over the token limit: not priced
            maximum = subscription_maximum(limits, principal)
            cost = {"requestedQueryCost": None, "maximumAvailable": maximum}
            error["extensions"]["cost"] = cost
        return error

    def _error(self, code: str, message: str) -> dict[str, Any]:
        return {"message": message, "extensions": {"code": code, "requestId": self.request_id}}

    def _why_refused(self, message: SubscribeMessage) -> tuple[str, str] | None:
        """The code and message refusing this subscribe message before it starts."""
        limit = self.policy.per_connection
        if len(self.operations) >= limit:
            return BAD_REQUEST, f"At most {limit} subscriptions may run on one connection."
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return None  # the protocol's own checks answer
        try:
            document = parsed(query)  # cached, as over HTTP (messages are at most 1 MiB)
        except GraphQLError as exc:  # a syntax error, or over the token limit
            too_complex = isinstance(exc.original_error, QueryTooComplex)
            return (QUERY_TOO_COMPLEX if too_complex else BAD_REQUEST), exc.message
        name = payload.get("operationName") if isinstance(payload, dict) else None
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
            return BAD_REQUEST, (
                "Only subscriptions run over the websocket: send queries and mutations "
                "with POST /graphql."
            )
        return None

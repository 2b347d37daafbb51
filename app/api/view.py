"""The HTTP side of /graphql: body limit, bearer auth, strict JSON, error mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.api.auth import authenticate, refusal, request_id_of, request_meta
from app.api.context import Context
from app.api.errors import (
    BAD_REQUEST,
    INTERNAL,
    format_error,
    top_level_error,
    unavailable,
    unavailable_message,
)
from app.api.limits import MAX_BODY_BYTES, MAX_JSON_NESTING
from app.api.live import LiveContext, LiveHandler, TokenSlots, is_subscription
from app.api.schema import schema
from app.domain.errors import BadRequest, Forbidden, IdentityUnavailable, Unauthenticated
from app.services.container import Services
from app.services.health import database_unavailable
from app.services.identity import Authenticator

log = logging.getLogger("confid.http")

# Renders the GraphiQL page for a path, or None to fall back to Strawberry's own page.
IdePage = Callable[[str], Response | None]


def _nesting(text: str) -> int:
    """Deepest bracket nesting of a JSON text (outside strings), computed without recursion."""
    if text.count("[") + text.count("{") <= MAX_JSON_NESTING:
        return 0  # cannot nest deeper than it has brackets (the usual, cheap case)
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view, made strict: every client mistake is a JSON error with a code.
    Websockets speak graphql-transport-ws, for subscriptions only (`app.api.live`)."""

    graphql_transport_ws_handler_class = LiveHandler

    def __init__(
        self,
        services: Services,
        authenticator: Authenticator,
        ide_page: IdePage | None = None,
        *,
        subscriptions_per_connection: int = 10,
        subscriptions_per_token: int = 20,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=15),
            max_subscriptions_per_connection=None,  # LiveHandler counts, with a code
        )
        self.services = services
        self.authenticator = authenticator
        self.ide_page = ide_page
        self.per_connection = subscriptions_per_connection
        self.slots = TokenSlots(subscriptions_per_token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            request_id_of(scope)
            await super().__call__(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        body, too_large = await _read_body(scope, receive)
        if too_large:
            response: Response = JSONResponse(
                top_level_error(
                    BAD_REQUEST,
                    f"The request body is over the {MAX_BODY_BYTES} byte limit.",
                    request_id,
                ),
                status_code=413,
            )
        else:
            response = await self._respond(scope, _replay(body), request_id)
        response.headers["X-Request-Id"] = request_id
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive, request_id: str) -> Response:
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
            if scope["state"].get("database_unavailable"):
                response.status_code = 503
                response.headers["Retry-After"] = "5"
            return response
        except (Unauthenticated, Forbidden, IdentityUnavailable) as exc:
            # Raised by get_context only (resolvers' errors end up in the result): the
            # request was refused for its token, before anything ran.
            return refusal(exc, request_id)
        except (HTTPException, BadRequest) as exc:
            status = exc.status_code if isinstance(exc, HTTPException) else 400
            message = exc.reason if isinstance(exc, HTTPException) else str(exc)
            if status == 405:
                return JSONResponse(
                    top_level_error(BAD_REQUEST, message, request_id),
                    status_code=405,
                    headers={"Allow": "GET, POST"},
                )
            return JSONResponse(
                top_level_error(BAD_REQUEST, message, request_id), status_code=status
            )
        except RecursionError:
            return JSONResponse(
                top_level_error(BAD_REQUEST, "The request is nested too deeply.", request_id),
                status_code=400,
            )
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("database unavailable in request %s: %s", request_id, exc)
                return JSONResponse(
                    top_level_error(INTERNAL, unavailable_message(request_id), request_id),
                    status_code=503,
                    headers={"Retry-After": "5"},
                )
            log.exception("internal error in request %s", request_id)
            return JSONResponse(
                top_level_error(
                    INTERNAL, f"Internal server error (request id {request_id}).", request_id
                ),
                status_code=500,
            )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        """Execute, then write the request's one access-log record of audit reads (also
        when execution failed halfway: what was read is recorded)."""
        if not isinstance(request_data, list) and is_subscription(
            request_data.query, request_data.operation_name
        ):
            raise BadRequest(
                "Subscriptions run over a websocket: open /graphql with the "
                "graphql-transport-ws protocol (GraphiQL does)."
            )
        try:
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        finally:
            await context.flush_audit_reads()

    async def render_graphql_ide(self, request: Request) -> Response:
        """Self-hosted GraphiQL when its assets are built; else Strawberry's CDN page (logged)."""
        page = self.ide_page(request.url.path) if self.ide_page else None
        return page or await super().render_graphql_ide(request)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        request_id: str = request.scope["state"]["request_id"]
        if isinstance(request, WebSocket):  # authenticated by connection_init
            return LiveContext(
                self.services,
                None,
                None,
                request_id,
                websocket=request,
                authenticate=self.authenticator.principal,
                slots=self.slots,
                per_connection=self.per_connection,
            )
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return Context(self.services, None, None, request_id)  # the page needs no token
        principal = await authenticate(request, self.authenticator)
        meta = request_meta(request, principal)
        return Context(self.services, principal, meta, request_id)

    def decode_json(self, data: str | bytes) -> object:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8.") from None
        if _nesting(text) > MAX_JSON_NESTING:
            raise HTTPException(400, f"The JSON is nested deeper than {MAX_JSON_NESTING}.")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"The request body is not valid JSON: {exc.msg}.") from None
        if "\\ud" in text.lower() and _has_lone_surrogate(value):
            raise HTTPException(
                400, "The JSON contains an unpaired UTF-16 surrogate escape; send valid Unicode."
            )
        if isinstance(value, list):
            raise HTTPException(400, "Batched requests (a JSON array) are not supported.")
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object with a `query`.")
        return value

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_id: str = request.scope["state"]["request_id"]
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [format_error(e, request_id) for e in result.errors]
            if any(unavailable(e) for e in result.errors):
                request.scope["state"]["database_unavailable"] = True
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def _has_lone_surrogate(value: object) -> bool:
    """JSON may escape half a surrogate pair; no database or hash can store such a string."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


async def _read_body(scope: Scope, receive: Receive) -> tuple[bytes, bool]:
    """The whole body, or (b"", True) once it passes the limit (the rest is drained)."""
    declared = dict(scope.get("headers", [])).get(b"content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_large = True
        if not too_large:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return (b"", True) if too_large else (b"".join(chunks), False)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive

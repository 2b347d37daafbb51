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
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.api.auth import authenticate, refusal, request_id_of, request_meta
from app.api.body import declared_too_large, decode_body, read_body, replay
from app.api.capacity import Capacity
from app.api.context import Context
from app.api.errors import (
    BAD_REQUEST,
    INTERNAL,
    THROTTLED,
    format_error,
    throttled,
    top_level_error,
    unavailable,
    unavailable_message,
)
from app.api.exchange import exchange_of, note_errors, note_throttled
from app.api.limits import MAX_BODY_BYTES, throttled_message
from app.api.live import LiveContext, LiveHandler, LivePolicy, is_subscription
from app.api.media import GRAPHQL_RESPONSE, wants_graphql_response
from app.api.schema import schema
from app.api.throttle import ApiLimits, RequestBudget
from app.domain.errors import BadRequest, Forbidden, IdentityUnavailable, Throttled, Unauthenticated
from app.services.container import Services
from app.services.health import database_unavailable
from app.services.identity import Authenticator

log = logging.getLogger("confid.http")

# Renders the GraphiQL page for a path, or None to fall back to Strawberry's own page.
IdePage = Callable[[str], Response | None]


# A websocket that has not sent `connection_init` by then is closed with 4408.
CONNECTION_INIT_SECONDS = 15.0


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view, made strict: every client mistake is a JSON error with a code.
    Websockets speak graphql-transport-ws, for subscriptions only (`app.api.live`)."""

    graphql_transport_ws_handler_class = LiveHandler

    def __init__(
        self,
        services: Services,
        authenticator: Authenticator,
        limits: ApiLimits,
        live: LivePolicy,
        ide_page: IdePage | None = None,
        body_timeout: float = 30.0,
        capacity: Capacity | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=None,  # LiveHandler counts, with a code
        )
        self.services = services
        self.authenticator = authenticator
        self.limits = limits
        self.ide_page = ide_page
        self.body_timeout = body_timeout
        self.live = live
        self.capacity = capacity or Capacity(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            request_id_of(scope)
            await super().__call__(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        exchange = exchange_of(scope)
        exchange.graphql = True
        body, refusal = await read_body(scope, receive, self.body_timeout)
        if refusal == 413:
            response: Response = JSONResponse(
                top_level_error(
                    BAD_REQUEST,
                    f"The request body is over the {MAX_BODY_BYTES} byte limit.",
                    request_id,
                ),
                status_code=413,
                headers={"Connection": "close"} if declared_too_large(scope) else None,
            )
        elif refusal == 408:
            response = JSONResponse(
                top_level_error(
                    BAD_REQUEST,
                    f"The request body did not arrive within {self.body_timeout:g} s.",
                    request_id,
                ),
                status_code=408,
                headers={"Connection": "close"},
            )
        elif not self.capacity.enter():  # counted from here: the body has arrived
            response = self.capacity.busy(scope)
        else:
            try:
                response = await self._respond(scope, replay(body), request_id)
            finally:
                self.capacity.leave()  # the answer is ready; sending it is not work
        response.headers["X-Request-Id"] = request_id
        if wants_graphql_response(scope) and response.media_type == "application/json":
            # GraphQL over HTTP: a document that was never executed (it did not parse or
            # validate, or was too complex) is a 400; once execution began, 200.
            response.headers["Content-Type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if response.status_code == 200 and scope["state"].get("not_executed"):
                response.status_code = 400
        if response.status_code >= 400 and not exchange.error_codes:
            # Answered before execution (transport, token, limits): the codes are in the
            # small error body just built, whichever path built it.
            note_errors(scope, _errors_in(response))
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive, request_id: str) -> Response:
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
            budget: RequestBudget | None = scope["state"].get("budget")
            if scope["state"].get("throttled") and budget is not None:
                note_throttled(scope, "token_bucket")  # logged and counted in the metrics
                response.status_code = 429
                response.headers["Retry-After"] = str(budget.retry_after_seconds())
            elif scope["state"].get("database_unavailable"):
                response.status_code = 503
                response.headers["Retry-After"] = "5"
            return response
        except Throttled as exc:  # the bucket was empty: nothing was even parsed
            note_throttled(scope, "token_bucket")
            budget = scope["state"].get("budget")
            body = top_level_error(THROTTLED, str(exc), request_id)
            if budget is not None:
                body["extensions"] = {"cost": budget.extension()}
            seconds = budget.retry_after_seconds() if budget is not None else 1
            return JSONResponse(body, status_code=429, headers={"Retry-After": str(seconds)})
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
        budget = context.budget
        if budget is not None:  # an empty bucket: nothing is parsed, not even to refuse it
            wait = budget.limits.limiter.wait(budget.principal, 1)
            if wait > 0:
                budget.retry_after = wait
                raise Throttled(throttled_message(budget), wait)
        if not isinstance(request_data, list) and is_subscription(
            request_data.query, request_data.operation_name
        ):
            if budget is not None:
                budget.take(1)  # refused, for a point, like any refused document
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
        exchange_of(request.scope).graphql = False  # a page, not an operation
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
                policy=self.live,
                limits=self.limits,
            )
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return Context(self.services, None, None, request_id)  # the page needs no token
        principal = await authenticate(request, self.authenticator)
        meta = request_meta(request, principal)
        budget = RequestBudget(self.limits, principal)
        request.scope["state"]["budget"] = budget
        return Context(
            self.services, principal, meta, request_id, budget, exchange=exchange_of(request.scope)
        )

    def decode_json(self, data: str | bytes) -> object:
        return decode_body(data)

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry's, with a refusal of other content types that says what to send."""
        if request.method != "GET":
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" not in content_type:
                raise HTTPException(
                    415,
                    f"Unsupported content type {content_type or '(none)'!r}: POST a JSON "
                    "object {query, variables, operationName} with `Content-Type: "
                    "application/json` (curl: -H 'Content-Type: application/json'), or use "
                    "GET for queries.",
                )
        return await super().parse_http_body(request)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_id: str = request.scope["state"]["request_id"]
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors and result.data is None and all(e.path is None for e in result.errors):
            request.scope["state"]["not_executed"] = True
        if result.errors:
            data["errors"] = [format_error(e, request_id) for e in result.errors]
            note_errors(request.scope, data["errors"] or [])
            if any(unavailable(e) for e in result.errors):
                request.scope["state"]["database_unavailable"] = True
            if any(throttled(e) for e in result.errors):
                request.scope["state"]["throttled"] = True
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def _errors_in(response: Response) -> list[object]:
    """The top-level errors of a JSON error answer (none when it is not one)."""
    try:
        body = json.loads(bytes(response.body))
    except (AttributeError, ValueError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else []

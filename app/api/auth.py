"""Bearer-token authentication of an HTTP request, shared by /graphql and /audit/*."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.api.origin import new_request_id
from app.domain.access import Principal
from app.domain.errors import Unauthenticated
from app.domain.models import RequestMeta
from app.services.tokens import TokenExpired, TokenRegistry

_QUERY_TOKEN_PARAMS = ("access_token", "token", "bearer", "authorization", "api_key")
USER_AGENT_MAX = 512


def request_id_of(scope: Scope) -> str:
    """confid's id of this request (set by `RequestOrigin`; fresh when it did not run)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = new_request_id()
    request_id: str = state["request_id"]
    return request_id


def authenticate(connection: HTTPConnection, tokens: TokenRegistry) -> Principal:
    """The caller named by `Authorization: Bearer <token>`; Unauthenticated otherwise."""
    if any(p in connection.query_params for p in _QUERY_TOKEN_PARAMS):
        raise Unauthenticated(
            "Tokens are never accepted in the query string (URLs end up in logs). "
            "Send `Authorization: Bearer <token>`."
        )
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthenticated("Missing token: send `Authorization: Bearer <token>`.")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Malformed Authorization header: use `Bearer <token>`.")
    try:
        principal = tokens.authenticate(token.strip())
    except TokenExpired:
        raise Unauthenticated("This token has expired; ask for a new one.") from None
    if principal is None:
        raise Unauthenticated("Unknown or revoked token.")
    return principal


def request_meta(connection: HTTPConnection, principal: Principal) -> RequestMeta:
    """Who and from where, as the audit trail and access log record it (`RequestOrigin`
    decided the address and ids; without it, the TCP peer and a fresh id)."""
    state = connection.scope.get("state", {})
    peer = connection.client.host if connection.client else None
    return RequestMeta(
        actor=principal.actor,
        source_ip=state.get("client_ip", peer),
        user_agent=(connection.headers.get("user-agent") or "")[:USER_AGENT_MAX] or None,
        request_id=request_id_of(connection.scope),
        client_request_id=state.get("client_request_id"),
    )

"""Bearer-token authentication of an HTTP request, shared by /graphql and /audit/*."""

from __future__ import annotations

import re
import secrets

from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.domain.access import Principal
from app.domain.errors import Unauthenticated
from app.domain.models import RequestMeta
from app.services.tokens import TokenExpired, TokenRegistry

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Query parameters that look like credentials, compared without case, `_` or `-`
# (`Access_Token`, `api-key`, `apiKey` ...): URLs end up in logs and browser history.
_QUERY_TOKEN_PARAMS = frozenset(
    {"accesstoken", "token", "bearer", "authorization", "apikey", "auth", "authtoken", "jwt",
     "idtoken", "sessiontoken", "key", "secret", "password"}
)  # fmt: skip


def _token_like(name: str) -> bool:
    return name.lower().replace("_", "").replace("-", "") in _QUERY_TOKEN_PARAMS


USER_AGENT_MAX = 512


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-Id when it is safe to echo, else a fresh one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
    return secrets.token_hex(8)


def authenticate(connection: HTTPConnection, tokens: TokenRegistry) -> Principal:
    """The caller named by `Authorization: Bearer <token>`; Unauthenticated otherwise."""
    if any(_token_like(name) for name in connection.query_params):
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


def request_meta(connection: HTTPConnection, principal: Principal, request_id: str) -> RequestMeta:
    """Who and from where, as the audit trail and access log record it."""
    return RequestMeta(
        actor=principal.actor,
        source_ip=connection.client.host if connection.client else None,
        user_agent=(connection.headers.get("user-agent") or "")[:USER_AGENT_MAX] or None,
        request_id=request_id,
    )

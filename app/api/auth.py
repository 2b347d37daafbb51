"""Bearer-token authentication of an HTTP request, shared by /graphql and /audit/*."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from app.api import errors
from app.api.exchange import exchange_of
from app.api.origin import new_request_id
from app.domain.access import Principal
from app.domain.errors import Forbidden, IdentityUnavailable, Unauthenticated
from app.domain.models import RequestMeta
from app.services.identity import Authenticator

# Query parameters that look like credentials, compared without case, `_` or `-`
# (`Access_Token`, `api-key`, `apiKey` ...): URLs end up in logs and browser history.
_QUERY_TOKEN_PARAMS = frozenset(
    {"accesstoken", "token", "bearer", "authorization", "apikey", "auth", "authtoken", "jwt",
     "idtoken", "sessiontoken", "key", "secret", "password"}
)  # fmt: skip


def _token_like(name: str) -> bool:
    return name.lower().replace("_", "").replace("-", "") in _QUERY_TOKEN_PARAMS


def refuse_query_tokens(connection: HTTPConnection) -> None:
    """Unauthenticated when the URL carries a token-like parameter (HTTP and websockets)."""
    if any(_token_like(name) for name in connection.query_params):
        raise Unauthenticated(
            "Tokens are never accepted in the query string (URLs end up in logs). "
            "Send `Authorization: Bearer <token>`."
        )


# The answer to a request without a token (no header, or an empty `Bearer `): the usual
# first request of a newcomer, in GraphiQL or with curl, so it says what to do.
NO_TOKEN = (
    "No token yet: paste your token (in GraphiQL: into the token field at the top of the "
    "page; on the command line: `Authorization: Bearer <token>`), or sign in on the admin "
    "page."
)
USER_AGENT_MAX = 512


def request_id_of(scope: Scope) -> str:
    """confid's id of this request (set by `RequestOrigin`; fresh when it did not run)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = new_request_id()
    request_id: str = state["request_id"]
    return request_id


async def authenticate(connection: HTTPConnection, authenticator: Authenticator) -> Principal:
    """The caller named by `Authorization: Bearer <token>`.

    Unauthenticated (no usable header), InvalidToken (a token that does not validate),
    Forbidden (a valid OpenID Connect token that maps to no role) or IdentityUnavailable
    (the provider's keys cannot be fetched) otherwise.
    """
    refuse_query_tokens(connection)
    header = connection.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if not header or (scheme.lower() == "bearer" and not token.strip()):
        raise Unauthenticated(NO_TOKEN)  # nothing after `Bearer ` is no token, not a mistake
    if scheme.lower() != "bearer":
        raise Unauthenticated(  # the scheme is not echoed: it may be a token pasted alone
            "The Authorization header must read `Bearer <token>`: confid takes bearer tokens only."
        )
    principal = await authenticator.principal(token.strip())
    exchange_of(connection.scope).actor = principal.name  # for the access log
    return principal


def refusal(error: Unauthenticated | Forbidden | IdentityUnavailable, request_id: str) -> Response:
    """The HTTP answer to a request refused for its token, before anything ran."""
    status, code, headers = errors.refusal(error)
    return JSONResponse(
        errors.top_level_error(code, str(error), request_id), status_code=status, headers=headers
    )


def auth_config(authenticator: Authenticator) -> Callable[[Request], Awaitable[Response]]:
    """`GET /auth/config`: how the admin page may sign a person in. Public: it holds no
    secret, and the page needs it before anyone has signed in. `oidc` is null unless both
    CONFID_OIDC_ISSUER and CONFID_OIDC_CLIENT_ID are set."""
    sign_in = authenticator.sign_in
    body = {"oidc": sign_in.as_json() if sign_in else None, "staticTokens": True}

    async def endpoint(request: Request) -> Response:
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    return endpoint


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

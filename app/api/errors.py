"""The only place that maps errors to the API: `userErrors` and `extensions.code`."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from app.domain.errors import (
    BadRequest,
    Forbidden,
    IdentityUnavailable,
    InvalidToken,
    QueryTooComplex,
    Throttled,
    Unauthenticated,
)
from app.services.health import database_unavailable

log = logging.getLogger("confid.api")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL = "INTERNAL"
THROTTLED = "THROTTLED"


def code_of(error: GraphQLError) -> str:
    """The `extensions.code` an error gets."""
    original = error.original_error
    if isinstance(original, Unauthenticated):
        return UNAUTHENTICATED
    if isinstance(original, Forbidden):
        return FORBIDDEN
    if isinstance(original, QueryTooComplex):
        return QUERY_TOO_COMPLEX
    if isinstance(original, Throttled):
        return THROTTLED
    if isinstance(original, BadRequest):
        return BAD_REQUEST
    if error.path is None and (
        original is None
        or isinstance(original, GraphQLError | ValueError | TypeError | OverflowError)
    ):
        # Parse, validation and variable-coercion errors (a scalar refusing a value raises
        # ValueError): the client's own mistake, reported with its real message. The limits
        # (tokens, depth, aliases, cost) raise QueryTooComplex, so no message is read here.
        return BAD_REQUEST
    if isinstance(original, GraphQLError) and original.original_error is None:
        return BAD_REQUEST  # e.g. an invalid scalar value raised while parsing input
    return INTERNAL


def refusal(
    error: Unauthenticated | Forbidden | IdentityUnavailable,
) -> tuple[int, str, dict[str, str]]:
    """HTTP status, `extensions.code` and headers for a request refused for its token
    before it ran (the challenge as RFC 6750 spells it)."""
    if isinstance(error, IdentityUnavailable):
        return 503, INTERNAL, {"Retry-After": "5"}
    if isinstance(error, Forbidden):
        return (
            403,
            FORBIDDEN,
            {"WWW-Authenticate": 'Bearer realm="confid", error="insufficient_scope"'},
        )
    challenge = 'Bearer realm="confid"'
    if isinstance(error, InvalidToken):
        challenge += ', error="invalid_token"'
    return 401, UNAUTHENTICATED, {"WWW-Authenticate": challenge}


def unavailable(error: GraphQLError) -> bool:
    """True when the error means the database could not be reached (HTTP 503)."""
    return database_unavailable(error.original_error)


def unavailable_message(request_id: str) -> str:
    """What a client is told when the database cannot be reached."""
    return f"The database is unavailable; try again shortly (request id {request_id})."


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The JSON of one error, internal ones masked (and logged with the request id).
    Extensions confid set itself (e.g. `cost` on QUERY_TOO_COMPLEX) are kept."""
    code = code_of(error)
    formatted: dict[str, Any] = dict(error.formatted)
    extra: dict[str, Any] = {}
    if code == INTERNAL and unavailable(error):
        formatted["message"] = unavailable_message(request_id)
    elif code == INTERNAL:
        formatted["message"] = f"Internal server error (request id {request_id})."
    elif isinstance(error.original_error, QueryTooComplex | Throttled):
        extra = dict(error.extensions or {})
    formatted["extensions"] = {**extra, "code": code, "requestId": request_id}
    return formatted


def top_level_error(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """A response body with one top-level error and no data."""
    extensions: dict[str, Any] = {"code": code}
    if request_id:
        extensions["requestId"] = request_id
    return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


def throttled(error: GraphQLError) -> Throttled | None:
    """The Throttled behind an error, if that is what it is (HTTP 429)."""
    original = error.original_error
    return original if isinstance(original, Throttled) else None

"""What one HTTP request did, noted as it goes, for its access-log line and the metrics.

The request telemetry middleware puts an `Exchange` in `scope["state"]` before any route
runs and reads it when the response is sent; the GraphQL view, the pipeline extension
and authentication fill it in. Nothing here is ever a token, a variable or a body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.types import Scope

_STATE_KEY = "exchange"
# A GraphQL name (what a well-formed operation name is); anything else is not repeated.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_LIMIT = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(slots=True)
class Exchange:
    """One request, as far as it got."""

    graphql: bool = False  # a GraphQL request (not the GraphiQL page)
    operation_name: str | None = None  # as the client named it, when it is a GraphQL name
    operation_type: str | None = None  # query | mutation | subscription, once parsed
    actor: str | None = None  # the authenticated caller's name (never the token)
    error_codes: list[str] = field(default_factory=list)  # each top-level error's code
    throttled: str | None = None  # the limit that refused the request, if one did


def exchange_of(scope: Scope) -> Exchange:
    """The request's `Exchange` (a detached one when no middleware set it: tests, tools)."""
    state = scope.setdefault("state", {})
    exchange = state.get(_STATE_KEY)
    if not isinstance(exchange, Exchange):
        exchange = state[_STATE_KEY] = Exchange()
    return exchange


def note_operation(exchange: Exchange, name: str | None, operation_type: str | None) -> None:
    """The operation a GraphQL request ran (a name that is not a GraphQL name is dropped)."""
    exchange.operation_name = name if name is not None and _NAME.fullmatch(name) else None
    exchange.operation_type = operation_type


def note_errors(scope: Scope, errors: Iterable[object]) -> None:
    """The `extensions.code` of each top-level error in the answer."""
    codes = exchange_of(scope).error_codes
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) else "UNKNOWN")


def note_throttled(scope: Scope, limit: str) -> None:
    """The hook for rate limits: call it when `limit` refuses a request (before answering
    it, usually with 429). The access-log line names the limit and the metrics count it in
    `confid_throttled_requests_total{limit}`. `limit` is a name from code (lower-case
    letters, digits, `_`), never from the request; anything else is counted as `other`."""
    exchange_of(scope).throttled = limit if _LIMIT.fullmatch(limit) else "other"

"""GraphQL over HTTP media types: `application/graphql-response+json` when a client asks
for it (the GraphQL-over-HTTP specification), `application/json` otherwise."""

from __future__ import annotations

from starlette.types import Scope

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _accepted(header: str) -> dict[str, float]:
    """Media types of an Accept header with their q-values."""
    accepted: dict[str, float] = {}
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            accepted[media.lower()] = quality
    return accepted


def wants_graphql_response(scope: Scope) -> bool:
    """True when the client prefers `application/graphql-response+json`: it accepts it and
    rates `application/json` no higher. Clients that ask for nothing or for
    `application/json` keep the classic behaviour (HTTP 200 for GraphQL errors)."""
    header = b", ".join(v for k, v in scope.get("headers", []) if k == b"accept").decode("latin-1")
    accepted = _accepted(header)
    preferred = accepted.get(GRAPHQL_RESPONSE, 0.0)
    return preferred > 0 and preferred >= accepted.get(JSON, 0.0)

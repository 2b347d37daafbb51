"""Where a request came from, decided once per request and kept in `scope["state"]`.

- `client_ip`: the TCP peer, unless the peer is a trusted proxy (CONFID_TRUSTED_PROXIES);
  only then the forwarded client address (the right-most address in X-Forwarded-For that
  is not itself a trusted proxy). By default nobody is trusted, so a client on loopback
  cannot claim another address.
- `request_id`: always confid's own, fresh id (X-Request-Id response header, audit entry).
- `client_request_id`: the client's X-Request-Id when it is a safe token (1-64 characters
  of `A-Z a-z 0-9 . _ : -`), kept beside confid's id, never instead of it.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from app.domain.addresses import Network, in_networks

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_FORWARDED = 2048  # a longer X-Forwarded-For is not read at all


def new_request_id() -> str:
    """confid's id of one request."""
    return secrets.token_hex(8)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers", []) if k == name]
    return b", ".join(values).decode("latin-1") if values else None


def client_request_id(scope: Scope) -> str | None:
    """The client's own X-Request-Id, when it is safe to keep."""
    text = _header(scope, b"x-request-id")
    return text if text is not None and _REQUEST_ID.fullmatch(text) else None


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    return in_networks(address, trusted)


def client_ip(scope: Scope, trusted: Sequence[Network]) -> str | None:
    """The address to record for the request (see the module docstring)."""
    client = scope.get("client")
    peer: str | None = client[0] if client else None
    if peer is None or not trusted or not _trusted(peer, trusted):
        return peer
    forwarded = _header(scope, b"x-forwarded-for")
    if not forwarded or len(forwarded) > MAX_FORWARDED:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a hop that is not an address: trust none of the header
        if not _trusted(address, trusted):
            return address
    return peer


class RequestOrigin:
    """ASGI middleware: decides the request's origin and ids before any route runs."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            state = scope.setdefault("state", {})
            state["request_id"] = new_request_id()
            state["client_request_id"] = client_request_id(scope)
            state["client_ip"] = client_ip(scope, self.trusted)
        await self.app(scope, receive, send)

"""How uvicorn serves confid: its timeouts come from `Settings`, plus what uvicorn lacks,
confid's own protocol classes add: a deadline for a request's headers (a slow or idle
client is answered 408 and disconnected instead of holding a connection open for
minutes), the connection caps of `app.admission` (a connection past them is closed as
soon as it is made, so it holds no file descriptor, whether it would have been HTTP or a
websocket), and a limit on open files that fits the caps.

uvicorn's own `limit_concurrency` is not used: it is checked only once a request's
headers are in, never for a websocket upgrade, and past it uvicorn keeps every connection
open and answers each request 503, probes included, logging a line for each."""

from __future__ import annotations

import asyncio
import contextlib
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.admission import ConnectionGate, Refusals


def _timeout_response(seconds: float) -> bytes:
    body = json.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": f"The request headers did not arrive within {seconds:g} s.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ],
        }
    ).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _peer(transport: asyncio.BaseTransport) -> str | None:
    """The TCP peer's address (None for a Unix socket)."""
    info = transport.get_extra_info("peername")
    return str(info[0]) if isinstance(info, tuple) and info else None


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request line and headers,
    counted from the connection's start (the first request) or from a request's first
    byte (later ones; between requests uvicorn's keep-alive timeout applies), and the
    connection caps: `gate` counts the connection from here until it closes (as a
    `GatedWebSocketProtocol` after an upgrade), or refuses it, which closes it at once."""

    header_timeout = 10.0
    gate: ConnectionGate | None = None  # None: no caps
    refusals: Refusals | None = None
    _deadline: asyncio.TimerHandle | None = None
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self.gate is not None:
            address = _peer(transport)
            limit = self.gate.enter(transport, address)
            if limit is not None:
                self._refused = True
                transport.abort()  # the socket is closed on the loop's next turn
                if self.refusals is not None:
                    self.refusals.note(limit, address)
                return
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:  # uvicorn never saw it
            return
        if self.gate is not None:
            self.gate.leave(self.transport)
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(_timeout_response(self.header_timeout))
            self.transport.close()


class GatedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets (sans-I/O) protocol, which an upgraded connection continues
    in: the connection leaves `gate` when it closes."""

    gate: ConnectionGate | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.gate is not None:
            self.gate.leave(self.transport)
        super().connection_lost(exc)


def protocols(
    header_timeout: float, gate: ConnectionGate, refusals: Refusals
) -> tuple[type[HeaderDeadlineProtocol], type[GatedWebSocketProtocol]]:
    """The protocol classes to pass as uvicorn's `http` and `ws`: this header deadline,
    and connections counted by `gate` from their accept until they close, upgraded or not
    (one gate per server: the classes carry it)."""
    http = type(
        "HeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": header_timeout, "gate": gate, "refusals": refusals},
    )
    ws = type("GatedWebSocketProtocol", (GatedWebSocketProtocol,), {"gate": gate})
    return http, ws


# Descriptors kept for what is not a client connection: the database's connection pools
# (PyMongo opens up to 100 per replica-set member, plus its monitors: over 300 on three
# members), the metrics port, logs, the tokens and key files.
RESERVED_FILES = 512


def connection_cap(wanted: int) -> int:
    """The cap on open connections for CONFID_HTTP_MAX_CONNECTIONS: the process's soft
    limit on open files is raised towards `wanted` + RESERVED_FILES (never past the hard
    limit), and where it stays lower the cap is lowered to fit under it, so connections
    past it are closed by confid rather than refused by the kernel (EMFILE), which stops
    every accept for a while, probes included."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not a Unix
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_FILES))

"""How uvicorn serves confid: its timeouts and connection cap come from `Settings`, plus
the one deadline uvicorn lacks, for a request's headers (a slow or idle client is
answered 408 and disconnected instead of holding a connection open for minutes), and a
limit on open files that fits the connection cap."""

from __future__ import annotations

import asyncio
import contextlib
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


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


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request line and headers,
    counted from the connection's start (the first request) or from a request's first
    byte (later ones; between requests uvicorn's keep-alive timeout applies)."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
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


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class to pass as uvicorn's `http`, with this header deadline."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": seconds})


# Descriptors kept for what is not a client connection: the database's connection pool
# (PyMongo opens up to 100 per server), the metrics port, logs, the tokens and key files.
RESERVED_FILES = 256


def connection_cap(wanted: int) -> int:
    """uvicorn's cap on open connections (`limit_concurrency`, past which it answers 503)
    for CONFID_HTTP_MAX_CONNECTIONS: the process's soft limit on open files is raised
    towards `wanted` + RESERVED_FILES (never past the hard limit), and where it stays lower
    the cap is lowered to fit under it, so connections are refused with a 503 rather than
    by the kernel (EMFILE), which stops every accept, probes included."""
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

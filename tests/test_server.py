"""How uvicorn serves confid (app.server, app.__main__): slow, idle and oversized requests
against a real uvicorn on loopback (issue 9, row 7): an early 413 without reading the body,
408 for a body or headers that trickle past their deadline, idle connections closed, 503
past the connection cap (and not before: idle connections are not requests in progress),
and the limit on open files that fits the cap.

The server's deadlines are one second; the sockets' own timeout (15 s) only keeps a
failing test from hanging. Nothing here asserts how long anything took."""

from __future__ import annotations

import contextlib
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.server import RESERVED_FILES, connection_cap
from tests.support.api import TOKENS
from tests.support.live import PROTOCOL
from tests.support.served import running_confid

GUARD = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder: Path = tmp_path_factory.mktemp("slow")
    with running_confid(
        folder,
        CONFID_DEMO_USERS="3",
        CONFID_HTTP_HEADER_TIMEOUT_SECONDS="1",
        CONFID_HTTP_BODY_TIMEOUT_SECONDS="1",
        CONFID_HTTP_KEEPALIVE_SECONDS="1",
        CONFID_HTTP_MAX_CONCURRENCY="2",
        CONFID_HTTP_MAX_CONNECTIONS="8",
    ) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=GUARD)
    sock.settimeout(GUARD)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def head(method: str, length: int | None, extra: str = "") -> bytes:
    lines = [
        f"{method} /graphql HTTP/1.1",
        "Host: confid.test",
        f"Authorization: Bearer {TOKENS['admin']}",
        "Content-Type: application/json",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(head("POST", 512 * 1024 * 1024) + b'{"query": "')  # then nothing more
        response = read_all(sock)  # the 413 comes, and the server closes the connection
    assert status_of(response) == 413
    body = json.loads(response.split(b"\r\n\r\n", 1)[1])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_body_that_trickles_past_its_deadline_is_408(server: tuple[str, int]) -> None:
    payload = json.dumps({"query": "{ viewer { name } }"}).encode()
    with connect(server) as sock:
        sock.sendall(head("POST", len(payload) + 500))
        for byte in payload + b" " * 500:  # a byte every 50 ms, until the server answers
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                break
            sock.sendall(bytes([byte]))
        response = read_all(sock)
    assert status_of(response) == 408
    assert b"did not arrive within 1 s" in response


def test_headers_that_never_end_are_408(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: confid.test\r\n")  # no blank line
        response = read_all(sock)
    assert status_of(response) == 408


def test_an_idle_connection_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        response = read_all(sock)  # nothing sent at all
    assert status_of(response) == 408


def test_a_kept_alive_connection_is_closed_when_idle(server: tuple[str, int]) -> None:
    payload = json.dumps({"query": "{ viewer { name } }"}).encode()
    with connect(server) as sock:
        sock.sendall(head("POST", len(payload)) + payload)
        response = read_all(sock)  # the answer, then the close after 1 s of keep-alive
    assert status_of(response) == 200 and b'"admin-1"' in response


def ask(server: tuple[str, int], path: str = "/graphql") -> bytes:
    """One request on a connection of its own (a query, or a GET of `path`)."""
    with connect(server) as sock:
        if path == "/graphql":
            payload = json.dumps({"query": "{ viewer { name } }"}).encode()
            sock.sendall(head("POST", len(payload), "Connection: close\r\n") + payload)
        else:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        return read_all(sock)


def test_idle_connections_are_not_requests_in_progress(server: tuple[str, int]) -> None:
    """Three idle connections, one more than CONFID_HTTP_MAX_CONCURRENCY (2): requests
    still run (it used to be uvicorn's limit on connections, so idle ones took it up)."""
    idle = [connect(server) for _ in range(3)]
    try:
        for path in ("/graphql", "/healthz", "/auth/config"):
            response = ask(server, path)
            assert status_of(response) == 200, response
    finally:
        for sock in idle:
            sock.close()


def test_open_websockets_are_not_requests_in_progress(server: tuple[str, int]) -> None:
    """Authenticated websockets that subscribe to nothing, more than the requests in
    progress allowed (2): /healthz and /graphql still answer."""
    from websockets.sync.client import connect as websocket

    host, port = server
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKENS['auditor']}"}}
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            ws = stack.enter_context(
                websocket(
                    f"ws://{host}:{port}/graphql", subprotocols=[PROTOCOL], open_timeout=GUARD
                )  # type: ignore[list-item]
            )
            ws.send(json.dumps(init))
            assert json.loads(ws.recv(timeout=GUARD)) == {"type": "connection_ack"}
        for path in ("/graphql", "/healthz"):
            assert status_of(ask(server, path)) == 200


def test_past_the_connection_cap_requests_get_503(server: tuple[str, int]) -> None:
    idle = [connect(server) for _ in range(8)]  # CONFID_HTTP_MAX_CONNECTIONS
    try:
        assert status_of(ask(server)) == 503
        assert status_of(ask(server, "/healthz")) == 503  # the last resort spares nothing
    finally:
        for sock in idle:
            sock.close()


def test_the_open_files_limit_is_raised_to_fit_the_connection_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import resource

    limits = {"soft": 1024, "hard": 4096}

    def setrlimit(which: int, values: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE and values[1] == limits["hard"]
        limits["soft"] = values[0]

    monkeypatch.setattr(resource, "getrlimit", lambda _: (limits["soft"], limits["hard"]))
    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    assert connection_cap(2000) == 2000  # raised to 2000 + the reserve
    assert limits["soft"] == 2000 + RESERVED_FILES
    # The hard limit caps it: fewer connections then, refused with 503, not with EMFILE.
    assert connection_cap(8000) == 4096 - RESERVED_FILES and limits["soft"] == 4096

"""How uvicorn serves confid (app.server): slow, idle and oversized requests against a real
uvicorn on loopback (issue 9, row 7): an early 413 without reading the body, 408 for a
body or headers that trickle past their deadline, idle connections closed, and 503 past
the concurrency limit.

The server's deadlines are one second; the sockets' own timeout (15 s) only keeps a
failing test from hanging. Nothing here asserts how long anything took."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import TOKENS
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
        CONFID_HTTP_MAX_CONCURRENCY="6",
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


def test_past_the_concurrency_limit_requests_get_503(server: tuple[str, int]) -> None:
    idle = [connect(server) for _ in range(6)]
    try:
        payload = json.dumps({"query": "{ viewer { name } }"}).encode()
        with connect(server) as sock:
            sock.sendall(head("POST", len(payload), "Connection: close\r\n") + payload)
            response = read_all(sock)
        assert status_of(response) == 503
    finally:
        for sock in idle:
            sock.close()

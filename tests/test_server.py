"""How uvicorn serves confid (app.server, app.__main__): slow, idle and oversized requests
against a real uvicorn on loopback (issue 9, row 7): an early 413 without reading the body,
408 for a body or headers that trickle past their deadline, idle connections closed; the
connection caps (app.admission), in all and per client address, websockets included,
under which a connection is closed as soon as it is made; and the limit on open files
that fits the cap.

Linux routes all of 127.0.0.0/8 to loopback, so a client socket bound to 127.0.0.2 is
another client address. The server's deadlines are one second; the sockets' own timeout
(15 s) only keeps a failing test from hanging. Nothing here asserts how long anything
took."""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websocket

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


def connect(server: tuple[str, int], source: str | None = None) -> socket.socket:
    """A connection to `server` from the loopback address `source` (127.0.0.1 when None)."""
    sock = socket.create_connection(
        server, timeout=GUARD, source_address=(source, 0) if source else None
    )
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


def ask(server: tuple[str, int], path: str = "/graphql", source: str | None = None) -> bytes:
    """One request on a connection of its own (a query, or a GET of `path`)."""
    with connect(server, source) as sock:
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


def test_a_websocket_message_is_bounded_like_a_body(server: tuple[str, int]) -> None:
    """A message over 1 MiB closes the socket with 1009 (too big) before anything reads it
    (uvicorn alone would take 16 MiB, which a cache of documents could keep)."""
    from websockets.exceptions import ConnectionClosed

    host, port = server
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKENS['auditor']}"}}
    with websocket(
        f"ws://{host}:{port}/graphql", subprotocols=[PROTOCOL], open_timeout=GUARD
    ) as ws:  # type: ignore[list-item]
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=GUARD)) == {"type": "connection_ack"}
        huge = "subscription { auditEventAppended { sequence } } #" + "x" * (1024 * 1024)
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": huge}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=GUARD)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def refused(sock: socket.socket) -> bool:
    """True when the server closed `sock` without a byte (an answer, a 408 at the header
    deadline, would come with bytes)."""
    try:
        return read_all(sock) == b""
    except ConnectionResetError:
        return True


def answered(server: tuple[str, int], path: str, source: str | None = None) -> int:
    """The status of GET `path` from `source`, asked again (up to 100 times) while the
    connection is refused: the server learns of connections closed by the client only
    when it reads their end."""
    for _ in range(100):
        try:
            response = ask(server, path, source)
        except ConnectionResetError:
            response = b""
        if response:
            return status_of(response)
        time.sleep(0.05)
    raise AssertionError(f"GET {path} from {source} was refused 100 times")


def test_past_the_connection_cap_a_new_connection_is_closed_at_once(
    server: tuple[str, int],
) -> None:
    """CONFID_HTTP_MAX_CONNECTIONS (8) idle connections: the next is closed without a
    byte (not answered 503, not left to the header deadline), and once they close, the
    probe answers again."""
    idle = [connect(server) for _ in range(8)]
    try:
        with connect(server) as extra:
            assert refused(extra)
    finally:
        for sock in idle:
            sock.close()
    assert answered(server, "/healthz") == 200


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[tuple[str, int], Path]]:
    """A server allowing 3 connections per address and 16 in all; 127.0.0.3 is a trusted
    proxy. Yields its address and its log."""
    folder: Path = tmp_path_factory.mktemp("capped")
    log = folder / "confid.log"
    with running_confid(
        folder,
        log,
        CONFID_DEMO_USERS="3",
        CONFID_HTTP_HEADER_TIMEOUT_SECONDS="5",
        CONFID_HTTP_MAX_CONCURRENCY="2",
        CONFID_HTTP_MAX_CONNECTIONS="16",
        CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS="3",
        CONFID_TRUSTED_PROXIES="127.0.0.3",
        CONFID_METRICS="on",
    ) as base:
        host, port = base.removeprefix("http://").split(":")
        yield (host, int(port)), log


def refusals(server: tuple[str, int], limit: str) -> int:
    """confid_throttled_requests_total{limit=...}, scraped from 127.0.0.2."""
    response = ask(server, "/metrics", "127.0.0.2")
    found = re.search(
        rf'^confid_throttled_requests_total{{limit="{limit}"}} (\S+)$'.encode(), response, re.M
    )
    return int(float(found.group(1))) if found else 0


def test_one_address_fills_its_cap_and_another_address_is_still_answered(
    capped: tuple[tuple[str, int], Path],
) -> None:
    server, log = capped
    before = refusals(server, "connections_per_address")
    idle = [connect(server, "127.0.0.5") for _ in range(3)]  # the per-address cap
    try:
        for _ in range(5):
            with connect(server, "127.0.0.5") as extra:
                assert refused(extra)
        assert status_of(ask(server, "/healthz", "127.0.0.2")) == 200
        assert status_of(ask(server, "/graphql", "127.0.0.2")) == 200
    finally:
        for sock in idle:
            sock.close()
    assert answered(server, "/healthz", "127.0.0.5") == 200  # its places were given back
    assert refusals(server, "connections_per_address") == before + 5
    # Logged, but not once per connection: at most a line a minute, with the count.
    lines = [line for line in log.read_text().splitlines() if "_PER_ADDRESS" in line]
    assert 1 <= len(lines) < 5
    assert "Exceeded concurrency limit" not in log.read_text()


@contextlib.contextmanager
def websocket_from(server: tuple[str, int], source: str) -> Iterator[ClientConnection]:
    """An authenticated graphql-transport-ws websocket from `source`."""
    host, port = server
    with websocket(
        f"ws://{host}:{port}/graphql",
        sock=connect(server, source),
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        open_timeout=GUARD,
    ) as ws:
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {TOKENS['auditor']}"},
        }
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=GUARD)) == {"type": "connection_ack"}
        yield ws


def test_websockets_count_towards_their_address_cap(
    capped: tuple[tuple[str, int], Path],
) -> None:
    server, _ = capped
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(websocket_from(server, "127.0.0.4"))
        with connect(server, "127.0.0.4") as extra:
            assert refused(extra)
        assert status_of(ask(server, "/healthz", "127.0.0.2")) == 200
    # Closed websockets give their places back too.
    assert answered(server, "/healthz", "127.0.0.4") == 200


def test_a_trusted_proxy_is_not_capped_per_address(
    capped: tuple[tuple[str, int], Path],
) -> None:
    """All traffic comes through a trusted proxy: only the total cap applies to it."""
    server, _ = capped
    idle = [connect(server, "127.0.0.3") for _ in range(5)]
    try:
        assert status_of(ask(server, "/healthz", "127.0.0.3")) == 200
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

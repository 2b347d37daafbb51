"""Two confid instances on one database, each served by uvicorn on loopback, and a real
websocket client speaking graphql-transport-ws (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from app.domain.signing import Signer
from app.main import create_app
from app.services.container import Services
from app.settings import Settings
from tests.conftest import TOKENS, operation
from tests.yielding import YieldingDatabase

PROTOCOL = "graphql-transport-ws"
WAIT = 10  # seconds a test waits for a message before it fails (never a speed assertion)


@dataclass
class Instance:
    """One confid app, served on a loopback port."""

    services: Services
    base: str
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/graphql"

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str = "admin"
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {TOKENS[token]}"},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@dataclass
class Live:
    """A graphql-transport-ws client connection."""

    socket: ClientConnection
    next_id: int = 0
    backlog: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), WAIT))
        return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {} if token is None else {"Authorization": f"Bearer {TOKENS.get(token, token)}"}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.next_id += 1
        sid = str(self.next_id)
        await self.send(
            {"id": sid, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return sid

    async def first(self, sid: str) -> dict[str, Any]:
        """The next message for subscription `sid` (others wait in the backlog)."""
        kept: list[dict[str, Any]] = []
        try:
            while True:
                message = await self.receive()
                if message.get("id") == sid:
                    return message
                kept.append(message)
        finally:
            self.backlog[:0] = kept

    async def events(self, sid: str, count: int) -> list[dict[str, Any]]:
        """The payloads of the next `count` `next` messages of `sid`."""
        out = []
        while len(out) < count:
            message = await self.first(sid)
            assert message["type"] == "next", message
            out.append(message["payload"])
        return out

    async def close_code(self) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket: (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), WAIT)
        except Exception:
            pass
        await self.socket.wait_closed()
        received = self.socket.protocol.close_rcvd
        return (received.code, received.reason) if received else (None, None)


Connect = Callable[..., Any]


def listening_socket(send_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:  # accepted connections inherit it (Linux)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    return sock


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return replace(
        settings,
        signing_key_pem=Signer.generate().private_pem().decode("ascii"),
        live_poll_seconds=0.05,
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """serve(settings, database, send_buffer=None) -> Instance, stopped at the end."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(settings: Settings, database: Any, send_buffer: int | None = None) -> Instance:
        app = create_app(settings, database=database)
        sock = listening_socket(send_buffer)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        client = httpx.AsyncClient(base_url=base, timeout=30)
        running.append((server, task, client))
        return Instance(app.state.services, base, client)

    yield start
    for server, _task, client in running:
        await client.aclose()
        server.should_exit = True
    for _, task, _ in running:
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def pair(
    serve: Callable[..., Any], live_settings: Settings, raw_database: Any
) -> list[Instance]:
    """Two confid instances on one database (calls interleave as on a network)."""
    database = YieldingDatabase(raw_database)
    first = await serve(live_settings, database)
    second = await serve(replace(live_settings, seed_demo=False), database)
    return [first, second]


@pytest.fixture
async def live() -> AsyncIterator[Connect]:
    """live(instance, token=..., **connect options) -> an initialised connection."""
    opened: list[ClientConnection] = []

    async def open_live(
        instance: Instance,
        token: str | None = "auditor",
        receive_buffer: int | None = None,
        **options: Any,
    ) -> Live:
        if receive_buffer is not None:  # a client that reads nothing fills up soon
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            raw.connect(("127.0.0.1", int(instance.base.rsplit(":", 1)[1])))
            options["sock"] = raw
        sock = await connect(instance.ws_url, subprotocols=[PROTOCOL], **options)  # type: ignore[list-item]
        opened.append(sock)
        connection = Live(sock)
        if token is not None:
            ack = await connection.init(token)
            assert ack == {"type": "connection_ack"}, ack
        return connection

    yield open_live
    for sock in opened:
        await sock.close()


async def head(instance: Instance) -> int:
    events = instance.services.database.get_collection("audit_events")
    return int(await events.count_documents({}))


async def enabled_user_ids(instance: Instance) -> list[str]:
    data = await instance.data(operation("ListUsers"), {"first": 100})
    return [e["node"]["id"] for e in data["users"]["edges"] if e["node"]["audioConferencing"]]

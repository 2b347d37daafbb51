"""Live subscriptions against confid apps served by uvicorn in this process: the served
instance, and a websocket client speaking graphql-transport-ws (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from app.services.container import Services
from tests.support.api import TOKENS, operation

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

    async def until_closed(self) -> tuple[list[dict[str, Any]], int | None, str | None]:
        """Every message until the server closes the socket, and the close's code and reason
        (AssertionError when it stays open for WAIT seconds)."""
        messages, self.backlog = list(self.backlog), []
        try:
            while True:
                text = await asyncio.wait_for(self.socket.recv(), WAIT)
                messages.append(json.loads(text))
        except TimeoutError:
            raise AssertionError(f"the server did not close the socket; got {messages}") from None
        except ConnectionClosed:
            pass
        received = self.socket.protocol.close_rcvd
        if received is None:
            return messages, None, None
        return messages, received.code, received.reason

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


async def head(instance: Instance) -> int:
    events = instance.services.database.get_collection("audit_events")
    return int(await events.count_documents({}))


async def enabled_user_ids(instance: Instance) -> list[str]:
    data = await instance.data(operation("ListUsers"), {"first": 100})
    return [e["node"]["id"] for e in data["users"]["edges"] if e["node"]["audioConferencing"]]


class Reader:
    """Reads a subscription; can tell whether something is waiting without losing it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._next: asyncio.Future[Any] | None = None

    def _pending(self) -> asyncio.Future[Any]:
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self.stream))
        return self._next

    async def take(self, count: int) -> list[Any]:
        out = []
        for _ in range(count):
            out.append(await asyncio.wait_for(self._pending(), 5))
            self._next = None
        return out

    async def idle(self) -> bool:
        """True when nothing is waiting to be read right now."""
        pending = self._pending()
        await asyncio.sleep(0.01)
        return not pending.done()


async def subscribe(tail: Any, *args: Any, **kwargs: Any) -> Reader:
    return Reader(await tail.subscribe(*args, **kwargs))

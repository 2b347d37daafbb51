"""Live fixtures: confid apps served by uvicorn in this process (two on one database), and
an initialised graphql-transport-ws connection to one of them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from app.domain.signing import Signer
from app.main import create_app
from app.settings import Settings
from tests.support.database import WrappedDatabase
from tests.support.live import PROTOCOL, Connect, Instance, Live, listening_socket


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return replace(
        settings,
        signing_key_pem=Signer.generate().private_pem().decode("ascii"),
        live_poll_seconds=0.05,
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """serve(settings, database, send_buffer=None, **create_app_options) -> Instance,
    stopped at the end."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(
        settings: Settings, database: Any, send_buffer: int | None = None, **options: Any
    ) -> Instance:
        app = create_app(settings, database=database, **options)
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
    database = WrappedDatabase(raw_database, interleave=True)
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

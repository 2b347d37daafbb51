"""Subscription latency: from an audit entry's append to its delivery over the websocket.

    python -m bench.live [--events 300] [--poll 0.25]   (prints JSON)

Two confid instances on one embedded database, each served by uvicorn on loopback (in this
process, as the tests run them). A graphql-transport-ws client subscribes to
`auditEventAppended` on each; resets are made one after another through instance B. An
entry's append time is its `occurredAt` (stamped when it is sealed, just before the insert);
its delivery time is when the client has the message. The subscriber on B is woken by B's
own append; the one on A learns of it from A's tail, which polls every `--poll` seconds,
as a confid process does for entries appended by another process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from mongomock_motor import AsyncMongoMockClient
from websockets.asyncio.client import ClientConnection, connect

from app.domain.signing import Signer
from app.main import create_app
from app.settings import Settings
from bench.dataset import write_tokens_file

USERS = "{ users(first: 50) { edges { node { id audioConferencing { conferenceId } } } } }"
_RUNNING: set[asyncio.Task[None]] = set()  # the servers' tasks, kept until they end
SUBSCRIBE = "subscription { auditEventAppended(afterSequence: %d) { sequence occurredAt } }"
RESET = (
    "mutation($i: ResetConferenceIdInput!) { resetConferenceId(input: $i) { userErrors { code } } }"
)


async def _serve(settings: Settings, database: Any) -> tuple[uvicorn.Server, str]:
    app = create_app(settings, database=database)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    _RUNNING.add(asyncio.create_task(server.serve()))
    while not server.started:
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"127.0.0.1:{port}"


async def _subscribe(address: str, token: str, after: int) -> ClientConnection:
    socket = await connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE % after}}
    await socket.send(json.dumps(message))
    return socket


async def _collect(socket: ClientConnection, count: int, out: list[float]) -> None:
    while len(out) < count:
        message = json.loads(await socket.recv())
        received = time.time()
        event = message["payload"]["data"]["auditEventAppended"]
        appended = datetime.fromisoformat(event["occurredAt"].replace("Z", "+00:00"))
        out.append((received - appended.timestamp()) * 1000)


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(events: int, poll: float, folder: Path) -> dict[str, Any]:
    tokens = folder / "tokens.toml"
    token = write_tokens_file(tokens)
    settings = Settings(
        tokens_file=tokens,
        demo_users=50,
        signing_key_pem=Signer.generate().private_pem().decode("ascii"),
        live_poll_seconds=poll,
    )
    database: Any = AsyncMongoMockClient()["live"]
    a, address_a = await _serve(settings, database)
    b, address_b = await _serve(replace(settings, seed_demo=False), database)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://{address_b}", headers=headers) as client:
        users = await client.post("/graphql", json={"query": USERS})
        ids = [
            e["node"]["id"]
            for e in users.json()["data"]["users"]["edges"]
            if e["node"]["audioConferencing"]
        ]
        head = await database.get_collection("audit_events").count_documents({})
        other, same = (
            await _subscribe(address_a, token, head),
            await _subscribe(address_b, token, head),
        )
        polled: list[float] = []
        woken: list[float] = []
        collectors = [
            asyncio.create_task(_collect(other, events, polled)),
            asyncio.create_task(_collect(same, events, woken)),
        ]
        await asyncio.sleep(0.5)
        for n in range(events):
            response = await client.post(
                "/graphql", json={"query": RESET, "variables": {"i": {"userId": ids[n % len(ids)]}}}
            )
            assert not response.json()["data"]["resetConferenceId"]["userErrors"]
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*collectors), 60)
        await other.close()
        await same.close()
    for server in (a, b):
        server.should_exit = True
    await asyncio.sleep(0.5)
    return {
        "events": events,
        "poll_seconds": poll,
        "same_process": _summary(woken),
        "other_process": _summary(polled),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.live")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--poll", type=float, default=0.25)
    args = parser.parse_args(argv)
    print(f"subscription latency: {args.events} events ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="confid-live-") as tmp:
        result = asyncio.run(measure(args.events, args.poll, Path(tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

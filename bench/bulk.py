"""How fast a bulk reset runs, and what it costs interactive requests while it runs.

    python -m bench.bulk [--users 1000] [--rate 20] [--seconds 20]

Starts confid on the embedded store with `--users` demo users and the job pace `--rate`
(CONFID_BULK_RESET_RATE), then measures `viewer` and `users(first: 20)` latencies from
two clients taking turns (an admin clicking around) for `--seconds` without a job, and
again while a bulk reset of every user on the demo bridge runs. Prints the job's rate
(users reset per second, from its startedAt and finishedAt) and p50/p95 of each query in
both phases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx

from app.services.tokens import hash_token

TOKEN = "bench-bulk-admin-token"
VIEWER = "query Viewer { viewer { name role } }"
USERS = (
    "query ListUsers($first: Int) { users(first: $first) { edges { node { id displayName "
    "email audioConferencing { conferenceId } } } } }"
)
START = (
    "mutation Start($input: StartBulkResetInput!) { startBulkReset(input: $input) { "
    "job { id total } userErrors { code message } } }"
)
JOB = (
    "query Job($id: ID!) { bulkResetJob(id: $id) { status total processed startedAt finishedAt } }"
)
BRIDGES = "query { bridges { id } }"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def _interactive(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    until: float,
    done: asyncio.Event,
) -> list[float]:
    timings: list[float] = []
    while time.monotonic() < until and not done.is_set():
        began = time.perf_counter()
        await _gql(client, query, variables)
        timings.append((time.perf_counter() - began) * 1000)
    return timings


async def _phase(
    client: httpx.AsyncClient, seconds: float, done: asyncio.Event | None = None
) -> dict[str, list[float]]:
    """Both queries in turn for `seconds`, or until `done` (the job ended)."""
    until = time.monotonic() + seconds
    done = done or asyncio.Event()
    viewer, users = await asyncio.gather(
        _interactive(client, VIEWER, {}, until, done),
        _interactive(client, USERS, {"first": 20}, until, done),
    )
    return {"viewer": viewer, "users(first: 20)": users}


async def _ended(client: httpx.AsyncClient, job_id: str, done: asyncio.Event) -> dict[str, Any]:
    while True:
        state: dict[str, Any] = (await _gql(client, JOB, {"id": job_id}))["bulkResetJob"]
        if state["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            done.set()
            return state
        await asyncio.sleep(0.5)


def _report(title: str, phase: dict[str, list[float]]) -> None:
    for name, values in phase.items():
        print(
            f"{title:<14} {name:<17} n={len(values):>5}  p50 {_percentile(values, 50):7.1f} ms"
            f"  p95 {_percentile(values, 95):7.1f} ms"
        )


async def _measure(url: str, seconds: float) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await _phase(client, 2)  # warm up caches
        quiet = await _phase(client, seconds)
        bridge = (await _gql(client, BRIDGES, {}))["bridges"][0]["id"]
        started = await _gql(
            client,
            START,
            {"input": {"selection": {"bridgeId": bridge}, "reason": "bench", "sendEmail": True}},
        )
        job = started["startBulkReset"]["job"]
        done = asyncio.Event()
        watcher = asyncio.create_task(_ended(client, job["id"], done))
        busy = await _phase(client, seconds, done)  # only while the job runs
        state = await watcher
    began = datetime.fromisoformat(state["startedAt"].replace("Z", "+00:00"))
    ended = datetime.fromisoformat(state["finishedAt"].replace("Z", "+00:00"))
    took = (ended - began).total_seconds()
    print(
        f"job: {state['status']} {state['processed']}/{state['total']} users in {took:.1f} s "
        f"= {state['processed'] / took:.1f} users/s"
    )
    _report("without a job", quiet)
    _report("during the job", busy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bulk", description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rate", default="20", help="CONFID_BULK_RESET_RATE (0: unpaced)")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    tokens = folder / "tokens.toml"
    tokens.write_text(
        f'[[tokens]]\nname = "bench"\nrole = "admin"\nsha256 = "{hash_token(TOKEN)}"\n'
    )
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONFID_")},
        "CONFID_PORT": str(port),
        "CONFID_DEMO_USERS": str(args.users),
        "CONFID_TOKENS_FILE": str(tokens),
        "CONFID_BULK_RESET_RATE": args.rate,
    }
    log = (folder / "confid.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "app"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"confid did not start; see {folder / 'confid.log'}")
            time.sleep(0.2)
        print(f"confid: {args.users} demo users, CONFID_BULK_RESET_RATE={args.rate}")
        asyncio.run(_measure(url, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

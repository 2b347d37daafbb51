"""One benchmark server process: load the snapshot into a fresh embedded store, serve it.

    python -m bench.server confid  --snapshot FILE --tokens FILE --port N
    python -m bench.server ceiling --snapshot FILE --tokens FILE --port N

`confid` is `create_app(Settings.from_env(), database=...)`, served by uvicorn as
`python -m app` serves it (no access log, uvloop and httptools when installed); the
orchestrator passes `CONFID_DEMO_USERS`, `CONFID_TOKENS_FILE` and `CONFID_PORT` in the
environment. `ceiling` is `bench.ceiling` on the same documents and indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvicorn
from mongomock_motor import AsyncMongoMockClient
from starlette.applications import Starlette

from app.admission import ConnectionGate, Refusals
from app.api.limits import MAX_BODY_BYTES
from app.main import create_app
from app.server import connection_cap, protocols
from app.settings import Settings
from app.store.database import Database
from bench.ceiling import create_ceiling, token_hashes
from bench.dataset import load_snapshot_file, restore


async def _serve(kind: str, snapshot: Path, tokens: Path, port: int) -> None:
    database: Database = AsyncMongoMockClient()["confid"]
    await restore(database, load_snapshot_file(snapshot))
    app: Starlette
    settings = Settings.from_env()  # also the server options `python -m app` uses
    if kind == "confid":
        if settings.port != port:
            raise SystemExit("CONFID_PORT and --port disagree")
        app = create_app(settings, database=database)
    else:
        app = create_ceiling(database, token_hashes(tokens))
    gate = ConnectionGate(
        connection_cap(settings.http_max_connections),
        settings.http_max_connections_per_address,
        settings.trusted_proxies,
    )
    http, ws = protocols(settings.http_header_timeout_seconds, gate, Refusals(gate))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=http,
        ws=ws,
        proxy_headers=False,  # as app.__main__ serves it
        ws_max_size=MAX_BODY_BYTES,
        timeout_keep_alive=settings.http_keepalive_seconds,
    )
    print(f"bench.server: {kind} listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve()


def _runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop when installed (what uvicorn's `loop="auto"` picks), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.server")
    parser.add_argument("kind", choices=["confid", "ceiling"])
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _runner()(_serve(args.kind, args.snapshot, args.tokens, args.port))


if __name__ == "__main__":
    main()

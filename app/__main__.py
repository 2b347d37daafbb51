"""`python -m app`: serve confid with uvicorn, configured from the environment."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys

import uvicorn

from app.admission import ConnectionGate, Refusals
from app.api.limits import MAX_BODY_BYTES
from app.main import StartupError, create_app
from app.server import connection_cap, protocols
from app.services.tokens import TokenFileError
from app.settings import Settings, SettingsError
from app.telemetry.banner import announce
from app.telemetry.logs import configure_logging

STARTUP_FAILURE = 3  # uvicorn's own exit code when the server could not start

log = logging.getLogger("confid")


class _Server(uvicorn.Server):
    """uvicorn's server, showing confid's banner once it listens."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else None
            announce(self.settings, int(bound or self.settings.port))


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"confid: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except (TokenFileError, StartupError) as exc:
        print(f"confid: {exc}", file=sys.stderr)
        return 2
    connections = connection_cap(settings.http_max_connections)
    if connections < settings.http_max_connections:
        log.warning(
            "at most %d open connections (CONFID_HTTP_MAX_CONNECTIONS is %d): the limit on "
            "open files allows no more; raise it (ulimit -n, LimitNOFILE, --ulimit nofile)",
            connections,
            settings.http_max_connections,
        )
    # Connections in all and per address are capped by confid's protocol classes (never by
    # uvicorn's limit_concurrency, which spares websockets and answers 503 to everything).
    gate = ConnectionGate(
        connections, settings.http_max_connections_per_address, settings.trusted_proxies
    )
    metrics = app.state.metrics
    http, ws = protocols(
        settings.http_header_timeout_seconds,
        gate,
        Refusals(gate, count=metrics.refused if metrics is not None else None),
    )
    # Timeouts (headers, body, keep-alive) and the connection caps: docs/operations.md,
    # "Behind a reverse proxy". The body deadline is the /graphql view's own; requests in
    # progress are bounded by the app (app.api.capacity), not by uvicorn.
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # every line goes through confid's handler, in its format
        # confid logs one line per request itself (app.telemetry.requests).
        access_log=False,
        # Subscriptions: the maintained (sans-I/O) websockets implementation, whose
        # keepalive pings also cut off a client that stopped reading (and which leaves the
        # connection gate when the socket closes).
        ws=ws,
        # Forwarded headers are read by confid's RequestOrigin alone, from
        # CONFID_TRUSTED_PROXIES only, and only when every hop is an address: uvicorn's own
        # handling (trusting 127.0.0.1 by default, keeping any text) is off.
        proxy_headers=False,
        # Websocket messages are bounded like request bodies (uvicorn allows 16 MiB).
        ws_max_size=MAX_BODY_BYTES,
        http=http,
        timeout_keep_alive=settings.http_keepalive_seconds,
    )
    server = _Server(config, settings)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn has shut down already
        server.run()
    return 0 if server.started else STARTUP_FAILURE


if __name__ == "__main__":
    sys.exit(main())

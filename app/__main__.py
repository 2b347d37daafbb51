"""`python -m app`: serve confid with uvicorn, configured from the environment."""

from __future__ import annotations

import logging
import sys

import uvicorn

from app.main import StartupError, create_app
from app.server import header_deadline_protocol
from app.services.tokens import TokenFileError
from app.settings import Settings, SettingsError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except (SettingsError, TokenFileError, StartupError) as exc:
        print(f"confid: {exc}", file=sys.stderr)
        return 2
    print(f"confid: GraphiQL at http://{settings.host}:{settings.port}/graphql", file=sys.stderr)
    # Timeouts (headers, body, keep-alive) and the concurrency limit: README, "Behind a
    # reverse proxy". The body deadline is the /graphql view's own.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        http=header_deadline_protocol(settings.http_header_timeout_seconds),
        timeout_keep_alive=settings.http_keepalive_seconds,
        limit_concurrency=settings.http_max_concurrency,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m app`: serve confid with uvicorn, configured from the environment."""

from __future__ import annotations

import logging
import sys

import uvicorn

from app.main import StartupError, create_app
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
    trusted = ",".join(str(network) for network in settings.trusted_proxies)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        # Subscriptions: the maintained (sans-I/O) websockets implementation, whose
        # keepalive pings also cut off a client that stopped reading.
        ws="websockets-sansio",
        # Forwarded headers are believed only from CONFID_TRUSTED_PROXIES (never uvicorn's
        # own 127.0.0.1 default); confid's RequestOrigin applies the same rule in the app.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The start-up banner: where the admin page, GraphiQL, the tokens and the metrics are.

Shown once the server listens (so the addresses are real, port 0 included): a few aligned
lines for a person in plain mode, one `confid ready` record with the same facts as fields
in JSON mode. It never holds a token; it says where the tokens are.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from app.settings import Settings

log = logging.getLogger("confid")

_ANY = {"", "0.0.0.0", "::"}


def browsable(host: str, port: int) -> str:
    """`http://host:port` as a browser on this machine can open it."""
    if host in _ANY:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True, slots=True)
class Banner:
    """The facts the banner shows."""

    admin_page: str
    graphiql: str
    tokens: str
    metrics: str
    store: str

    @classmethod
    def of(cls, settings: Settings, port: int) -> Banner:
        base = browsable(settings.host, port)
        if settings.tokens_file is not None:
            tokens = f"hashes in {settings.tokens_file} (CONFID_TOKENS_FILE)"
        elif settings.embedded:
            tokens = "demo tokens printed above, one per role (valid until this process exits)"
        else:
            tokens = "none static: people sign in with OpenID Connect"
        if settings.oidc_issuer is not None:
            tokens += f"; OpenID Connect tokens from {settings.oidc_issuer}"
        if not settings.metrics:
            metrics = "off (CONFID_METRICS=on or CONFID_METRICS_PORT to serve /metrics)"
        elif settings.metrics_port is None:
            metrics = f"{base}/metrics"
        else:
            metrics = browsable(settings.metrics_host or settings.host, settings.metrics_port)
            metrics += "/metrics"
        store = (
            "embedded, in memory: data is lost at exit"
            if settings.embedded
            else f"MongoDB, database {settings.database_name}"
        )
        return cls(f"{base}/", f"{base}/graphql", tokens, metrics, store)

    def lines(self) -> list[str]:
        """The plain-text banner."""
        return [
            "",
            "confid is ready",
            f"  admin page  {self.admin_page}",
            f"  GraphiQL    {self.graphiql}",
            f"  tokens      {self.tokens}",
            f"  metrics     {self.metrics}",
            f"  data        {self.store}",
            "",
        ]


def announce(settings: Settings, port: int) -> None:
    """Show the banner in the console's format (stderr, as every log line)."""
    banner = Banner.of(settings, port)
    if settings.log_format == "json":
        fields = {
            "admin_page": banner.admin_page,
            "graphiql": banner.graphiql,
            "tokens": banner.tokens,
            "metrics": banner.metrics,
            "store": banner.store,
        }
        log.info("confid ready", extra={"fields": fields})
        return
    print("\n".join(banner.lines()), file=sys.stderr, flush=True)

"""Settings: read from the environment once, in `main`, and handed down.

`Settings.from_env` reads the variables group by group (the store, the server, changes,
email, the audit trail, identities, limits, telemetry, live feeds, bulk resets); each
group's reader checks the combinations that cannot work together.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.env import Env, Network, SettingsError

__all__ = ["DEFAULT_RATE_LIMITS", "LOG_FORMATS", "LOG_LEVELS", "RateLimit", "Settings",
           "SettingsError"]  # fmt: skip

LOG_FORMATS = ("plain", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_ROLE_NAMES = ("admin", "helpdesk", "auditor")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One role's bucket: `points` at most, refilled at `per_second` points a second."""

    points: float
    per_second: float


# Why these numbers: docs/api.md, "Rate limits". A mutation costs 100 points, a page of 100
# users about 400, the admin page's views 3-120.
DEFAULT_RATE_LIMITS = {
    "admin": RateLimit(2000, 50),
    "helpdesk": RateLimit(1000, 20),
    "auditor": RateLimit(4000, 50),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one confid process."""

    mongodb_url: str | None = None
    database_name: str = "confid"
    host: str = "127.0.0.1"
    port: int = 8000
    seed_demo: bool = True
    demo_users: int = 50
    tokens_file: Path | None = None
    send_emails_automatically: bool = True
    quarantine_days: float | None = None
    recovery_grace_seconds: float = 60.0
    sweep_interval_seconds: float = 30.0
    lock_wait_seconds: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "confid@localhost"
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_ca_file: Path | None = None
    smtp_username: str | None = None
    smtp_password_file: Path | None = None
    email_max_attempts: int = 8
    email_retry_base_seconds: float = 60.0
    email_poll_seconds: float = 5.0
    bulk_reset_rate: float = 20.0
    bulk_reset_lease_seconds: float = 60.0
    bulk_reset_poll_seconds: float = 2.0
    signing_key_file: Path | None = None
    signing_key_pem: str | None = None
    checkpoint_interval_seconds: float = 3600.0
    previous_public_keys_file: Path | None = None
    signed_from_sequence: int = 1
    trusted_proxies: tuple[Network, ...] = ()
    oidc_issuer: str | None = None
    oidc_audiences: tuple[str, ...] = ()
    oidc_jwks_file: Path | None = None
    oidc_roles_claim: str = "roles"
    oidc_role_map: tuple[tuple[str, str], ...] = ()
    oidc_username_claim: str | None = None
    oidc_leeway_seconds: float = 30.0
    oidc_jwks_refresh_seconds: float = 60.0
    oidc_jwks_max_age_seconds: float = 3600.0
    oidc_http_timeout_seconds: float = 5.0
    oidc_client_id: str | None = None
    oidc_scopes: str = "openid profile email"
    metrics: bool = False  # /metrics served at all (CONFID_METRICS, or a CONFID_METRICS_PORT)
    metrics_port: int | None = None  # None: on the main port
    metrics_host: str | None = None  # None: CONFID_HOST
    log_format: str = "plain"  # one of LOG_FORMATS
    log_level: str = "info"  # one of LOG_LEVELS
    live_poll_seconds: float = 0.25
    live_queue_events: int = 1000
    subscriptions_per_connection: int = 10
    subscriptions_per_token: int = 20
    websockets_per_token: int = 10
    websockets_unauthenticated_per_address: int = 10
    websocket_idle_seconds: float = 60.0
    max_query_cost: int = 1000
    rate_limit_admin: RateLimit | None = DEFAULT_RATE_LIMITS["admin"]
    rate_limit_helpdesk: RateLimit | None = DEFAULT_RATE_LIMITS["helpdesk"]
    rate_limit_auditor: RateLimit | None = DEFAULT_RATE_LIMITS["auditor"]
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_keepalive_seconds: int = 5
    http_max_concurrency: int = 256  # requests in progress (app.api.capacity)
    http_max_connections: int = 4096  # open connections of any kind (app.admission)
    http_max_connections_per_address: int = 256  # ... from one client address (not proxies)

    @property
    def oidc(self) -> bool:
        """True when JWT bearer tokens from an OpenID provider are accepted."""
        return self.oidc_issuer is not None

    @property
    def embedded(self) -> bool:
        """True when confid runs on the in-memory store."""
        return self.mongodb_url is None

    @classmethod
    def from_env(cls, variables: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `CONFID_*` and `MONGODB_URL` variables."""
        env = Env(os.environ if variables is None else variables)
        groups = (_store, _server, _changes, _email, _audit, _identity, _limits, _telemetry,
                  _live, _bulk)  # fmt: skip
        values: dict[str, Any] = {}
        for group in groups:
            values.update(group(env))
        return cls(**values)


def _store(env: Env) -> dict[str, Any]:
    url = env.text("MONGODB_URL")
    quarantine = env.is_set("CONFID_QUARANTINE_DAYS")
    return {
        "mongodb_url": url,
        "database_name": env.text("CONFID_DB_NAME", "confid"),
        "seed_demo": env.flag("CONFID_SEED_DEMO", url is None),
        "demo_users": int(env.number("CONFID_DEMO_USERS", 50, 0)),
        "quarantine_days": env.number("CONFID_QUARANTINE_DAYS", 0, 0) if quarantine else None,
    }


def _server(env: Env) -> dict[str, Any]:
    concurrency = env.whole("CONFID_HTTP_MAX_CONCURRENCY", 256, 1)
    connections = env.whole("CONFID_HTTP_MAX_CONNECTIONS", 4096, 2)
    if connections < concurrency:
        raise SettingsError(
            f"CONFID_HTTP_MAX_CONNECTIONS ({connections}) must be at least "
            f"CONFID_HTTP_MAX_CONCURRENCY ({concurrency}): each request in progress holds a "
            "connection"
        )
    per_address = env.whole("CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS", min(256, connections), 1)
    if per_address > connections:
        raise SettingsError(
            f"CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS ({per_address}) must be at most "
            f"CONFID_HTTP_MAX_CONNECTIONS ({connections})"
        )
    return {
        "host": env.text("CONFID_HOST", "127.0.0.1"),
        "port": env.port("CONFID_PORT", 8000),
        "trusted_proxies": env.networks("CONFID_TRUSTED_PROXIES"),
        "http_header_timeout_seconds": env.number("CONFID_HTTP_HEADER_TIMEOUT_SECONDS", 10, 0.1),
        "http_body_timeout_seconds": env.number("CONFID_HTTP_BODY_TIMEOUT_SECONDS", 30, 0.1),
        "http_keepalive_seconds": env.whole("CONFID_HTTP_KEEPALIVE_SECONDS", 5, 1),
        "http_max_concurrency": concurrency,
        "http_max_connections": connections,
        "http_max_connections_per_address": per_address,
    }


def _changes(env: Env) -> dict[str, Any]:
    return {
        "send_emails_automatically": env.flag("CONFID_SEND_EMAILS_AUTOMATICALLY", True),
        "recovery_grace_seconds": env.number("CONFID_RECOVERY_GRACE_SECONDS", 60, 0),
        "sweep_interval_seconds": env.number("CONFID_SWEEP_INTERVAL_SECONDS", 30, 0.1),
        "lock_wait_seconds": env.number("CONFID_LOCK_WAIT_SECONDS", 10, 0),
    }


def _email(env: Env) -> dict[str, Any]:
    starttls = env.flag("CONFID_SMTP_STARTTLS", False)
    tls = env.flag("CONFID_SMTP_TLS", False)
    if starttls and tls:
        raise SettingsError(
            "CONFID_SMTP_STARTTLS and CONFID_SMTP_TLS exclude each other: STARTTLS "
            "upgrades a plain connection (port 587), TLS is encrypted from the start (465)"
        )
    return {
        "smtp_host": env.text("CONFID_SMTP_HOST"),
        "smtp_port": env.port("CONFID_SMTP_PORT", 25),
        "mail_from": env.text("CONFID_MAIL_FROM", "confid@localhost"),
        "smtp_starttls": starttls,
        "smtp_tls": tls,
        "smtp_ca_file": env.path("CONFID_SMTP_CA_FILE"),
        "smtp_username": env.text("CONFID_SMTP_USERNAME"),
        "smtp_password_file": env.path("CONFID_SMTP_PASSWORD_FILE"),
        "email_max_attempts": env.whole("CONFID_EMAIL_MAX_ATTEMPTS", 8, 1),
        "email_retry_base_seconds": env.number("CONFID_EMAIL_RETRY_BASE_SECONDS", 60, 0),
        "email_poll_seconds": env.number("CONFID_EMAIL_POLL_SECONDS", 5, 0.01),
    }


def _audit(env: Env) -> dict[str, Any]:
    return {
        "signing_key_file": env.path("CONFID_SIGNING_KEY_FILE"),
        "signing_key_pem": env.text("CONFID_SIGNING_KEY"),
        "checkpoint_interval_seconds": env.number("CONFID_CHECKPOINT_INTERVAL_SECONDS", 3600, 1),
        "previous_public_keys_file": env.path("CONFID_PREVIOUS_PUBLIC_KEYS_FILE"),
        "signed_from_sequence": env.whole("CONFID_SIGNED_FROM_SEQUENCE", 1, 1),
    }


def _identity(env: Env) -> dict[str, Any]:
    issuer = _issuer(env)
    audiences = env.words("CONFID_OIDC_AUDIENCE")
    if issuer is not None and not audiences:
        raise SettingsError("CONFID_OIDC_AUDIENCE is required with CONFID_OIDC_ISSUER")
    if issuer is None:
        needs_issuer = ("CONFID_OIDC_AUDIENCE", "CONFID_OIDC_JWKS_FILE", "CONFID_OIDC_CLIENT_ID")
        stray = [name for name in needs_issuer if env.is_set(name)]
        if stray:
            raise SettingsError(f"{', '.join(stray)} needs CONFID_OIDC_ISSUER")
    return {
        "tokens_file": env.path("CONFID_TOKENS_FILE"),
        "oidc_issuer": issuer,
        "oidc_audiences": audiences,
        "oidc_jwks_file": env.path("CONFID_OIDC_JWKS_FILE"),
        "oidc_roles_claim": env.text("CONFID_OIDC_ROLES_CLAIM", "roles"),
        "oidc_role_map": _role_map(env),
        "oidc_username_claim": env.text("CONFID_OIDC_USERNAME_CLAIM"),
        "oidc_leeway_seconds": env.bounded("CONFID_OIDC_LEEWAY_SECONDS", 30, 0, 300),
        "oidc_jwks_refresh_seconds": env.bounded("CONFID_OIDC_JWKS_REFRESH_SECONDS", 60, 1, 86400),
        "oidc_jwks_max_age_seconds": env.bounded(
            "CONFID_OIDC_JWKS_MAX_AGE_SECONDS", 3600, 60, 7 * 86400
        ),
        "oidc_http_timeout_seconds": env.bounded("CONFID_OIDC_HTTP_TIMEOUT_SECONDS", 5, 0.1, 60),
        "oidc_client_id": env.text("CONFID_OIDC_CLIENT_ID"),
        "oidc_scopes": " ".join(env.raw("CONFID_OIDC_SCOPES").split()) or "openid profile email",
    }


def _issuer(env: Env) -> str | None:
    """CONFID_OIDC_ISSUER, kept exactly as written (`iss` is compared as a string)."""
    raw = env.raw("CONFID_OIDC_ISSUER")
    if not raw:
        return None
    parts = urlsplit(raw)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise SettingsError(
            f"CONFID_OIDC_ISSUER must be an https:// URL (http:// only on loopback), not {raw!r}"
        )
    if parts.query or parts.fragment:
        raise SettingsError(f"CONFID_OIDC_ISSUER may not have a query or fragment: {raw!r}")
    return raw


def _role_map(env: Env) -> tuple[tuple[str, str], ...]:
    """CONFID_OIDC_ROLE_MAP: `name=role,name=role` (the role is after the last `=`)."""
    pairs: list[tuple[str, str]] = []
    for item in env.words("CONFID_OIDC_ROLE_MAP"):
        name, sep, role = item.rpartition("=")
        if not sep or not name.strip() or role.strip().lower() not in _ROLE_NAMES:
            raise SettingsError(
                f"CONFID_OIDC_ROLE_MAP entries are `claim value=role` with a role of "
                f"{', '.join(_ROLE_NAMES)}; {item!r} is not"
            )
        pairs.append((name.strip(), role.strip().lower()))
    return tuple(pairs)


def _limits(env: Env) -> dict[str, Any]:
    return {
        "max_query_cost": _max_query_cost(env),
        **{
            f"rate_limit_{role}": _rate_limit(
                env, f"CONFID_RATE_LIMIT_{role.upper()}", DEFAULT_RATE_LIMITS[role]
            )
            for role in _ROLE_NAMES
        },
    }


def _rate_limit(env: Env, name: str, default: RateLimit | None) -> RateLimit | None:
    raw = env.raw(name)
    if not raw:
        return default
    if raw.lower() == "off":
        return None
    points, slash, per_second = raw.partition("/")
    try:
        limit = RateLimit(float(points), float(per_second)) if slash else None
    except ValueError:
        limit = None
    if limit is None or not (limit.points >= 1 and limit.per_second > 0):
        raise SettingsError(
            f"{name} must be <points>/<points per second> (e.g. 2000/50) or off, not {raw!r}"
        )
    return limit


def _telemetry(env: Env) -> dict[str, Any]:
    metrics, metrics_port, metrics_host = _metrics(env, env.port("CONFID_PORT", 8000))
    return {
        "metrics": metrics,
        "metrics_port": metrics_port,
        "metrics_host": metrics_host,
        "log_format": env.choice("CONFID_LOG_FORMAT", LOG_FORMATS, "plain"),
        "log_level": env.choice("CONFID_LOG_LEVEL", LOG_LEVELS, "info"),
    }


def _metrics(env: Env, port: int) -> tuple[bool, int | None, str | None]:
    """CONFID_METRICS serves /metrics on the main port; CONFID_METRICS_PORT on its own."""
    metrics_port = env.port("CONFID_METRICS_PORT", 0) if env.is_set("CONFID_METRICS_PORT") else None
    host = env.text("CONFID_METRICS_HOST")
    if metrics_port is None:
        if host is not None:
            raise SettingsError("CONFID_METRICS_HOST needs CONFID_METRICS_PORT")
        return env.flag("CONFID_METRICS", False), None, None
    if not env.flag("CONFID_METRICS", True):
        raise SettingsError("CONFID_METRICS_PORT is set but CONFID_METRICS is off: unset one")
    if metrics_port == 0 or metrics_port == port:
        raise SettingsError(
            f"CONFID_METRICS_PORT must be a port of its own (not 0, not CONFID_PORT {port})"
        )
    return True, metrics_port, host


# A change costs 100 points plus its payload (~110): below this, no mutation could run.
MIN_QUERY_COST = 200


def _max_query_cost(env: Env) -> int:
    value = env.whole("CONFID_MAX_QUERY_COST", 1000, 1)
    if value < MIN_QUERY_COST:
        raise SettingsError(
            f"CONFID_MAX_QUERY_COST must be at least {MIN_QUERY_COST}, not {value}: a change "
            "with its payload costs about 110 points, so no mutation could run below that"
        )
    return value


def _live(env: Env) -> dict[str, Any]:
    return {
        "live_poll_seconds": env.bounded("CONFID_LIVE_POLL_SECONDS", 0.25, 0.01, 60),
        "live_queue_events": env.whole("CONFID_LIVE_QUEUE_EVENTS", 1000, 1),
        "subscriptions_per_connection": env.whole("CONFID_SUBSCRIPTIONS_PER_CONNECTION", 10, 1),
        "subscriptions_per_token": env.whole("CONFID_SUBSCRIPTIONS_PER_TOKEN", 20, 1),
        "websockets_per_token": env.whole("CONFID_WEBSOCKETS_PER_TOKEN", 10, 1),
        "websockets_unauthenticated_per_address": env.whole(
            "CONFID_WEBSOCKETS_UNAUTHENTICATED_PER_ADDRESS", 10, 1
        ),
        "websocket_idle_seconds": env.bounded("CONFID_WEBSOCKET_IDLE_SECONDS", 60, 0.1, 86400),
    }


def _bulk(env: Env) -> dict[str, Any]:
    lock_wait = env.number("CONFID_LOCK_WAIT_SECONDS", 10, 0)
    lease = env.number("CONFID_BULK_RESET_LEASE_SECONDS", 60, 1)
    if lease <= lock_wait:
        raise SettingsError(
            "CONFID_BULK_RESET_LEASE_SECONDS must be longer than CONFID_LOCK_WAIT_SECONDS "
            f"({lock_wait:g}): a bulk reset renews its lease between users, and one user "
            "may wait that long for another change of the same user"
        )
    return {
        "bulk_reset_rate": env.number("CONFID_BULK_RESET_RATE", 20, 0),
        "bulk_reset_lease_seconds": lease,
        "bulk_reset_poll_seconds": env.number("CONFID_BULK_RESET_POLL_SECONDS", 2, 0.01),
    }

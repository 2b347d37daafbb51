"""Settings: read from the environment once, in `main`, and handed down."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """An environment variable has a value confid cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def _bounded(
    env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float
) -> float:
    value = _number(env, name, default, minimum)
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, not {env[name]!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _number(env, name, default, minimum)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, not {env[name]!r}")
    return int(value)


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses or CIDR networks (`10.0.0.0/8, ::1`)."""
    raw = env.get(name, "").strip()
    out: list[Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or CIDR networks, not {item!r}"
            ) from None
    return tuple(out)


def _rate_limit(env: Mapping[str, str], name: str, default: RateLimit | None) -> RateLimit | None:
    raw = env.get(name, "").strip()
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


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    port = _number(env, name, default, 0)
    if port != int(port) or port > 65535:
        raise SettingsError(f"{name} must be a port number, not {env[name]!r}")
    return int(port)


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_ROLE_NAMES = ("admin", "helpdesk", "auditor")
LOG_FORMATS = ("plain", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw.lower()


def _metrics(env: Mapping[str, str], port: int) -> tuple[bool, int | None, str | None]:
    """CONFID_METRICS serves /metrics on the main port; CONFID_METRICS_PORT on its own."""
    metrics_port = (
        _port(env, "CONFID_METRICS_PORT", 0) if env.get("CONFID_METRICS_PORT", "").strip() else None
    )
    host = env.get("CONFID_METRICS_HOST", "").strip() or None
    if metrics_port is None:
        if host is not None:
            raise SettingsError("CONFID_METRICS_HOST needs CONFID_METRICS_PORT")
        return _flag(env, "CONFID_METRICS", False), None, None
    if not _flag(env, "CONFID_METRICS", True):
        raise SettingsError("CONFID_METRICS_PORT is set but CONFID_METRICS is off: unset one")
    if metrics_port == 0 or metrics_port == port:
        raise SettingsError(
            f"CONFID_METRICS_PORT must be a port of its own (not 0, not CONFID_PORT {port})"
        )
    return True, metrics_port, host


def _issuer(env: Mapping[str, str]) -> str | None:
    """CONFID_OIDC_ISSUER, kept exactly as written (`iss` is compared as a string)."""
    raw = env.get("CONFID_OIDC_ISSUER", "").strip()
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


def _words(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(w.strip() for w in env.get(name, "").split(",") if w.strip())


def _role_map(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """CONFID_OIDC_ROLE_MAP: `name=role,name=role` (the role is after the last `=`)."""
    pairs: list[tuple[str, str]] = []
    for item in _words(env, "CONFID_OIDC_ROLE_MAP"):
        name, sep, role = item.rpartition("=")
        if not sep or not name.strip() or role.strip().lower() not in _ROLE_NAMES:
            raise SettingsError(
                f"CONFID_OIDC_ROLE_MAP entries are `claim value=role` with a role of "
                f"{', '.join(_ROLE_NAMES)}; {item!r} is not"
            )
        pairs.append((name.strip(), role.strip().lower()))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One role's bucket: `points` at most, refilled at `per_second` points a second."""

    points: float
    per_second: float


# Why these numbers: README, "Rate limits". A mutation costs 100 points, a page of 100
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

    @property
    def oidc(self) -> bool:
        """True when JWT bearer tokens from an OpenID provider are accepted."""
        return self.oidc_issuer is not None

    max_query_cost: int = 1000
    rate_limit_admin: RateLimit | None = DEFAULT_RATE_LIMITS["admin"]
    rate_limit_helpdesk: RateLimit | None = DEFAULT_RATE_LIMITS["helpdesk"]
    rate_limit_auditor: RateLimit | None = DEFAULT_RATE_LIMITS["auditor"]
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_keepalive_seconds: int = 5
    http_max_concurrency: int = 256

    @property
    def embedded(self) -> bool:
        """True when confid runs on the in-memory store."""
        return self.mongodb_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `CONFID_*` and `MONGODB_URL` variables."""
        env = os.environ if env is None else env
        url = env.get("MONGODB_URL", "").strip() or None
        users = _number(env, "CONFID_DEMO_USERS", 50, 0)
        tokens = env.get("CONFID_TOKENS_FILE", "").strip()
        quarantine = env.get("CONFID_QUARANTINE_DAYS", "").strip()
        issuer = _issuer(env)
        audiences = _words(env, "CONFID_OIDC_AUDIENCE")
        if issuer is not None and not audiences:
            raise SettingsError("CONFID_OIDC_AUDIENCE is required with CONFID_OIDC_ISSUER")
        if issuer is None:
            stray = [
                name
                for name in (
                    "CONFID_OIDC_AUDIENCE",
                    "CONFID_OIDC_JWKS_FILE",
                    "CONFID_OIDC_CLIENT_ID",
                )
                if env.get(name, "").strip()
            ]
            if stray:
                raise SettingsError(f"{', '.join(stray)} needs CONFID_OIDC_ISSUER")
        starttls = _flag(env, "CONFID_SMTP_STARTTLS", False)
        tls = _flag(env, "CONFID_SMTP_TLS", False)
        if starttls and tls:
            raise SettingsError(
                "CONFID_SMTP_STARTTLS and CONFID_SMTP_TLS exclude each other: STARTTLS "
                "upgrades a plain connection (port 587), TLS is encrypted from the start (465)"
            )
        attempts = _number(env, "CONFID_EMAIL_MAX_ATTEMPTS", 8, 1)
        if attempts != int(attempts):
            raise SettingsError(
                "CONFID_EMAIL_MAX_ATTEMPTS must be a whole number, not "
                f"{env['CONFID_EMAIL_MAX_ATTEMPTS']!r}"
            )
        port = _port(env, "CONFID_PORT", 8000)
        metrics, metrics_port, metrics_host = _metrics(env, port)
        lock_wait = _number(env, "CONFID_LOCK_WAIT_SECONDS", 10, 0)
        lease = _number(env, "CONFID_BULK_RESET_LEASE_SECONDS", 60, 1)
        if lease <= lock_wait:
            raise SettingsError(
                "CONFID_BULK_RESET_LEASE_SECONDS must be longer than CONFID_LOCK_WAIT_SECONDS "
                f"({lock_wait:g}): a bulk reset renews its lease between users, and one user "
                "may wait that long for another change of the same user"
            )
        return cls(
            mongodb_url=url,
            database_name=env.get("CONFID_DB_NAME", "").strip() or "confid",
            host=env.get("CONFID_HOST", "").strip() or "127.0.0.1",
            port=port,
            seed_demo=_flag(env, "CONFID_SEED_DEMO", url is None),
            demo_users=int(users),
            tokens_file=Path(tokens) if tokens else None,
            send_emails_automatically=_flag(env, "CONFID_SEND_EMAILS_AUTOMATICALLY", True),
            quarantine_days=(_number(env, "CONFID_QUARANTINE_DAYS", 0, 0) if quarantine else None),
            recovery_grace_seconds=_number(env, "CONFID_RECOVERY_GRACE_SECONDS", 60, 0),
            sweep_interval_seconds=_number(env, "CONFID_SWEEP_INTERVAL_SECONDS", 30, 0.1),
            lock_wait_seconds=lock_wait,
            smtp_host=env.get("CONFID_SMTP_HOST", "").strip() or None,
            smtp_port=_port(env, "CONFID_SMTP_PORT", 25),
            mail_from=env.get("CONFID_MAIL_FROM", "").strip() or "confid@localhost",
            smtp_starttls=starttls,
            smtp_tls=tls,
            smtp_ca_file=_path(env, "CONFID_SMTP_CA_FILE"),
            smtp_username=env.get("CONFID_SMTP_USERNAME", "").strip() or None,
            smtp_password_file=_path(env, "CONFID_SMTP_PASSWORD_FILE"),
            email_max_attempts=int(attempts),
            email_retry_base_seconds=_number(env, "CONFID_EMAIL_RETRY_BASE_SECONDS", 60, 0),
            email_poll_seconds=_number(env, "CONFID_EMAIL_POLL_SECONDS", 5, 0.01),
            bulk_reset_rate=_number(env, "CONFID_BULK_RESET_RATE", 20, 0),
            bulk_reset_lease_seconds=lease,
            bulk_reset_poll_seconds=_number(env, "CONFID_BULK_RESET_POLL_SECONDS", 2, 0.01),
            signing_key_file=_path(env, "CONFID_SIGNING_KEY_FILE"),
            signing_key_pem=env.get("CONFID_SIGNING_KEY", "").strip() or None,
            checkpoint_interval_seconds=_number(env, "CONFID_CHECKPOINT_INTERVAL_SECONDS", 3600, 1),
            previous_public_keys_file=_path(env, "CONFID_PREVIOUS_PUBLIC_KEYS_FILE"),
            signed_from_sequence=int(_number(env, "CONFID_SIGNED_FROM_SEQUENCE", 1, 1)),
            trusted_proxies=_networks(env, "CONFID_TRUSTED_PROXIES"),
            oidc_issuer=issuer,
            oidc_audiences=audiences,
            oidc_jwks_file=_path(env, "CONFID_OIDC_JWKS_FILE"),
            oidc_roles_claim=env.get("CONFID_OIDC_ROLES_CLAIM", "").strip() or "roles",
            oidc_role_map=_role_map(env),
            oidc_username_claim=env.get("CONFID_OIDC_USERNAME_CLAIM", "").strip() or None,
            oidc_leeway_seconds=_bounded(env, "CONFID_OIDC_LEEWAY_SECONDS", 30, 0, 300),
            oidc_jwks_refresh_seconds=_bounded(
                env, "CONFID_OIDC_JWKS_REFRESH_SECONDS", 60, 1, 86400
            ),
            oidc_jwks_max_age_seconds=_bounded(
                env, "CONFID_OIDC_JWKS_MAX_AGE_SECONDS", 3600, 60, 7 * 86400
            ),
            oidc_http_timeout_seconds=_bounded(env, "CONFID_OIDC_HTTP_TIMEOUT_SECONDS", 5, 0.1, 60),
            oidc_client_id=env.get("CONFID_OIDC_CLIENT_ID", "").strip() or None,
            oidc_scopes=" ".join(env.get("CONFID_OIDC_SCOPES", "").split())
            or "openid profile email",
            max_query_cost=_whole(env, "CONFID_MAX_QUERY_COST", 1000, 10),
            rate_limit_admin=_rate_limit(
                env, "CONFID_RATE_LIMIT_ADMIN", DEFAULT_RATE_LIMITS["admin"]
            ),
            rate_limit_helpdesk=_rate_limit(
                env, "CONFID_RATE_LIMIT_HELPDESK", DEFAULT_RATE_LIMITS["helpdesk"]
            ),
            rate_limit_auditor=_rate_limit(
                env, "CONFID_RATE_LIMIT_AUDITOR", DEFAULT_RATE_LIMITS["auditor"]
            ),
            http_header_timeout_seconds=_number(env, "CONFID_HTTP_HEADER_TIMEOUT_SECONDS", 10, 0.1),
            http_body_timeout_seconds=_number(env, "CONFID_HTTP_BODY_TIMEOUT_SECONDS", 30, 0.1),
            http_keepalive_seconds=_whole(env, "CONFID_HTTP_KEEPALIVE_SECONDS", 5, 1),
            http_max_concurrency=_whole(env, "CONFID_HTTP_MAX_CONCURRENCY", 256, 1),
            metrics=metrics,
            metrics_port=metrics_port,
            metrics_host=metrics_host,
            log_format=_choice(env, "CONFID_LOG_FORMAT", LOG_FORMATS, "plain"),
            log_level=_choice(env, "CONFID_LOG_LEVEL", LOG_LEVELS, "info"),
            live_poll_seconds=_bounded(env, "CONFID_LIVE_POLL_SECONDS", 0.25, 0.01, 60),
            live_queue_events=_whole(env, "CONFID_LIVE_QUEUE_EVENTS", 1000, 1),
            subscriptions_per_connection=_whole(env, "CONFID_SUBSCRIPTIONS_PER_CONNECTION", 10, 1),
            subscriptions_per_token=_whole(env, "CONFID_SUBSCRIPTIONS_PER_TOKEN", 20, 1),
        )

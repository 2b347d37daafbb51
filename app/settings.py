"""Settings: read from the environment once, in `main`, and handed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


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


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


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


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _number(env, name, default, minimum)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, not {env[name]!r}")
    return int(value)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    port = _number(env, name, default, 0)
    if port != int(port) or port > 65535:
        raise SettingsError(f"{name} must be a port number, not {env[name]!r}")
    return int(port)


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
    smtp_username: str | None = None
    smtp_password_file: Path | None = None
    signing_key_file: Path | None = None
    signing_key_pem: str | None = None
    checkpoint_interval_seconds: float = 3600.0
    previous_public_keys_file: Path | None = None
    signed_from_sequence: int = 1
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
        return cls(
            mongodb_url=url,
            database_name=env.get("CONFID_DB_NAME", "").strip() or "confid",
            host=env.get("CONFID_HOST", "").strip() or "127.0.0.1",
            port=_port(env, "CONFID_PORT", 8000),
            seed_demo=_flag(env, "CONFID_SEED_DEMO", url is None),
            demo_users=int(users),
            tokens_file=Path(tokens) if tokens else None,
            send_emails_automatically=_flag(env, "CONFID_SEND_EMAILS_AUTOMATICALLY", True),
            quarantine_days=(_number(env, "CONFID_QUARANTINE_DAYS", 0, 0) if quarantine else None),
            recovery_grace_seconds=_number(env, "CONFID_RECOVERY_GRACE_SECONDS", 60, 0),
            sweep_interval_seconds=_number(env, "CONFID_SWEEP_INTERVAL_SECONDS", 30, 0.1),
            lock_wait_seconds=_number(env, "CONFID_LOCK_WAIT_SECONDS", 10, 0),
            smtp_host=env.get("CONFID_SMTP_HOST", "").strip() or None,
            smtp_port=_port(env, "CONFID_SMTP_PORT", 25),
            mail_from=env.get("CONFID_MAIL_FROM", "").strip() or "confid@localhost",
            smtp_starttls=_flag(env, "CONFID_SMTP_STARTTLS", False),
            smtp_username=env.get("CONFID_SMTP_USERNAME", "").strip() or None,
            smtp_password_file=_path(env, "CONFID_SMTP_PASSWORD_FILE"),
            signing_key_file=_path(env, "CONFID_SIGNING_KEY_FILE"),
            signing_key_pem=env.get("CONFID_SIGNING_KEY", "").strip() or None,
            checkpoint_interval_seconds=_number(env, "CONFID_CHECKPOINT_INTERVAL_SECONDS", 3600, 1),
            previous_public_keys_file=_path(env, "CONFID_PREVIOUS_PUBLIC_KEYS_FILE"),
            signed_from_sequence=int(_number(env, "CONFID_SIGNED_FROM_SEQUENCE", 1, 1)),
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
        )

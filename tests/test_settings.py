"""Settings from the environment (app.settings): the defaults, and clear errors for bad
values."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import DEFAULT_RATE_LIMITS, RateLimit, Settings, SettingsError


def test_defaults_are_the_embedded_demo() -> None:
    settings = Settings.from_env({})
    assert settings.embedded and settings.seed_demo and settings.port == 8000
    assert settings.host == "127.0.0.1" and settings.quarantine_days is None


def test_mongodb_url_turns_seeding_off_by_default() -> None:
    settings = Settings.from_env({"MONGODB_URL": "mongodb://db:27017/confid"})
    assert not settings.embedded and not settings.seed_demo
    forced = Settings.from_env({"MONGODB_URL": "mongodb://db", "CONFID_SEED_DEMO": "1"})
    assert forced.seed_demo


@pytest.mark.parametrize(
    "env",
    [{"CONFID_PORT": "http"}, {"CONFID_PORT": "70000"}, {"CONFID_SEED_DEMO": "maybe"},
     {"CONFID_QUARANTINE_DAYS": "-1"}, {"CONFID_DEMO_USERS": "lots"}],
)  # fmt: skip
def test_bad_values_are_named(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_oidc_settings() -> None:
    settings = Settings.from_env(
        {
            "CONFID_OIDC_ISSUER": "https://login.example.com/tenant/v2.0",
            "CONFID_OIDC_AUDIENCE": "api://confid, 1f0c2b7e-0000-4000-8000-000000000000",
            "CONFID_OIDC_ROLE_MAP": "ConfId.Admin=admin, a=b=Helpdesk",
            "CONFID_OIDC_SCOPES": "openid  profile\tapi://confid/access",
        }
    )
    assert settings.oidc and settings.oidc_issuer == "https://login.example.com/tenant/v2.0"
    assert settings.oidc_audiences == ("api://confid", "1f0c2b7e-0000-4000-8000-000000000000")
    assert settings.oidc_role_map == (("ConfId.Admin", "admin"), ("a=b", "helpdesk"))
    assert settings.oidc_roles_claim == "roles" and settings.oidc_leeway_seconds == 30
    assert settings.oidc_scopes == "openid profile api://confid/access"
    assert not Settings.from_env({}).oidc
    local = Settings.from_env(
        {"CONFID_OIDC_ISSUER": "http://127.0.0.1:9400", "CONFID_OIDC_AUDIENCE": "confid"}
    )
    assert local.oidc_issuer == "http://127.0.0.1:9400"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONFID_OIDC_ISSUER": "http://idp.example.com", "CONFID_OIDC_AUDIENCE": "a"},
         "https://"),
        ({"CONFID_OIDC_ISSUER": "https://idp.example.com?x=1", "CONFID_OIDC_AUDIENCE": "a"},
         "query"),
        ({"CONFID_OIDC_ISSUER": "https://idp.example.com"}, "CONFID_OIDC_AUDIENCE"),
        ({"CONFID_OIDC_AUDIENCE": "a"}, "needs CONFID_OIDC_ISSUER"),
        ({"CONFID_OIDC_ISSUER": "https://i.example", "CONFID_OIDC_AUDIENCE": "a",
          "CONFID_OIDC_ROLE_MAP": "Boss=root"}, "CONFID_OIDC_ROLE_MAP"),
        ({"CONFID_OIDC_ISSUER": "https://i.example", "CONFID_OIDC_AUDIENCE": "a",
          "CONFID_OIDC_ROLE_MAP": "=admin"}, "CONFID_OIDC_ROLE_MAP"),
        ({"CONFID_OIDC_ISSUER": "https://i.example", "CONFID_OIDC_AUDIENCE": "a",
          "CONFID_OIDC_LEEWAY_SECONDS": "3600"}, "CONFID_OIDC_LEEWAY_SECONDS"),
    ],
)  # fmt: skip
def test_bad_oidc_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_bulk_reset_settings() -> None:
    settings = Settings.from_env({})
    assert (settings.bulk_reset_rate, settings.bulk_reset_lease_seconds) == (20, 60)
    tuned = Settings.from_env(
        {
            "CONFID_BULK_RESET_RATE": "0",
            "CONFID_BULK_RESET_LEASE_SECONDS": "30",
            "CONFID_BULK_RESET_POLL_SECONDS": "0.5",
        }
    )
    assert (tuned.bulk_reset_rate, tuned.bulk_reset_lease_seconds) == (0, 30)
    assert tuned.bulk_reset_poll_seconds == 0.5
    for env in ({"CONFID_BULK_RESET_RATE": "-1"}, {"CONFID_BULK_RESET_POLL_SECONDS": "0"}):
        with pytest.raises(SettingsError, match=next(iter(env))):
            Settings.from_env(env)
    # A lease must outlast the longest wait of one user's change for another change.
    with pytest.raises(SettingsError, match="CONFID_BULK_RESET_LEASE_SECONDS must be longer"):
        Settings.from_env(
            {"CONFID_BULK_RESET_LEASE_SECONDS": "10", "CONFID_LOCK_WAIT_SECONDS": "10"}
        )


def test_metrics_are_off_unless_asked_for() -> None:
    settings = Settings.from_env({})
    assert (settings.metrics, settings.metrics_port, settings.metrics_host) == (False, None, None)
    assert (settings.log_format, settings.log_level) == ("plain", "info")


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({"CONFID_METRICS": "on"}, (True, None, None)),
        ({"CONFID_METRICS_PORT": "9100"}, (True, 9100, None)),
        ({"CONFID_METRICS": "yes", "CONFID_METRICS_PORT": "9100"}, (True, 9100, None)),
        (
            {"CONFID_METRICS_PORT": "9100", "CONFID_METRICS_HOST": "10.0.0.5"},
            (True, 9100, "10.0.0.5"),
        ),
    ],
)
def test_metrics_settings(env: dict[str, str], want: tuple[object, ...]) -> None:
    settings = Settings.from_env(env)
    assert (settings.metrics, settings.metrics_port, settings.metrics_host) == want


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONFID_METRICS_PORT": "8000"}, "a port of its own"),
        ({"CONFID_PORT": "9000", "CONFID_METRICS_PORT": "9000"}, "a port of its own"),
        ({"CONFID_METRICS_PORT": "0"}, "a port of its own"),
        ({"CONFID_METRICS_PORT": "nine"}, "must be a number"),
        ({"CONFID_METRICS_PORT": "9100", "CONFID_METRICS": "off"}, "CONFID_METRICS is off"),
        ({"CONFID_METRICS_HOST": "127.0.0.1"}, "needs CONFID_METRICS_PORT"),
        ({"CONFID_METRICS": "maybe"}, "CONFID_METRICS must be"),
        ({"CONFID_LOG_FORMAT": "xml"}, "plain, json"),
        ({"CONFID_LOG_LEVEL": "verbose"}, "debug, info, warning, error"),
    ],
)
def test_bad_values_stop_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_log_format_and_level_are_case_blind() -> None:
    settings = Settings.from_env({"CONFID_LOG_FORMAT": "JSON", "CONFID_LOG_LEVEL": "Debug"})
    assert (settings.log_format, settings.log_level) == ("json", "debug")


def test_smtp_settings_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CONFID_SMTP_HOST": "mailpit",
            "CONFID_SMTP_PORT": "465",
            "CONFID_SMTP_TLS": "on",
            "CONFID_SMTP_CA_FILE": str(tmp_path / "ca.pem"),
            "CONFID_EMAIL_MAX_ATTEMPTS": "5",
            "CONFID_EMAIL_RETRY_BASE_SECONDS": "30",
            "CONFID_EMAIL_POLL_SECONDS": "2",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("mailpit", 465, True)
    assert settings.smtp_ca_file == tmp_path / "ca.pem"
    assert (settings.email_max_attempts, settings.email_retry_base_seconds) == (5, 30)
    assert settings.email_poll_seconds == 2
    defaults = Settings.from_env({})
    assert (defaults.email_max_attempts, defaults.email_retry_base_seconds) == (8, 60)


@pytest.mark.parametrize(
    "env",
    [
        {"CONFID_SMTP_TLS": "1", "CONFID_SMTP_STARTTLS": "1"},
        {"CONFID_EMAIL_MAX_ATTEMPTS": "0"},
        {"CONFID_EMAIL_MAX_ATTEMPTS": "2.5"},
        {"CONFID_EMAIL_RETRY_BASE_SECONDS": "-1"},
    ],
)
def test_bad_email_settings_stop_start_up(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_rate_limit_settings() -> None:
    settings = Settings.from_env({"CONFID_RATE_LIMIT_HELPDESK": "300/5"})
    assert settings.rate_limit_helpdesk == RateLimit(300, 5)
    assert settings.rate_limit_admin == DEFAULT_RATE_LIMITS["admin"]
    assert Settings.from_env({"CONFID_RATE_LIMIT_ADMIN": "off"}).rate_limit_admin is None
    assert Settings.from_env({"CONFID_MAX_QUERY_COST": "500"}).max_query_cost == 500
    from app.settings import SettingsError

    for low in ("10", "199"):
        with pytest.raises(SettingsError, match="CONFID_MAX_QUERY_COST must be at least 200"):
            Settings.from_env({"CONFID_MAX_QUERY_COST": low})
    assert Settings.from_env({"CONFID_MAX_QUERY_COST": "200"}).max_query_cost == 200
    for bad in ("300", "x/5", "0/5", "300/0", "-1/1"):
        with pytest.raises(SettingsError, match="CONFID_RATE_LIMIT_AUDITOR"):
            Settings.from_env({"CONFID_RATE_LIMIT_AUDITOR": bad})


def test_connection_and_websocket_limits() -> None:
    defaults = Settings.from_env({})
    assert (defaults.http_max_concurrency, defaults.http_max_connections) == (256, 4096)
    assert defaults.http_max_connections_per_address == 256
    assert (defaults.websockets_per_token, defaults.websockets_unauthenticated_per_address) == (
        10,
        10,
    )
    assert defaults.websocket_idle_seconds == 60
    settings = Settings.from_env(
        {
            "CONFID_HTTP_MAX_CONCURRENCY": "8",
            "CONFID_HTTP_MAX_CONNECTIONS": "64",
            "CONFID_WEBSOCKETS_PER_TOKEN": "3",
            "CONFID_WEBSOCKETS_UNAUTHENTICATED_PER_ADDRESS": "2",
            "CONFID_WEBSOCKET_IDLE_SECONDS": "0.5",
        }
    )
    assert (settings.http_max_concurrency, settings.http_max_connections) == (8, 64)
    assert settings.http_max_connections_per_address == 64  # the default, cut to the total
    assert (
        Settings.from_env(
            {"CONFID_HTTP_MAX_CONNECTIONS": "600", "CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "1"}
        ).http_max_connections_per_address
        == 1
    )
    assert (settings.websockets_per_token, settings.websockets_unauthenticated_per_address) == (
        3,
        2,
    )
    assert settings.websocket_idle_seconds == 0.5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONFID_HTTP_MAX_CONNECTIONS": "100"}, "at least CONFID_HTTP_MAX_CONCURRENCY"),
        (
            {
                "CONFID_HTTP_MAX_CONNECTIONS": "300",
                "CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "301",
            },
            "_PER_ADDRESS \\(301\\) must be at most CONFID_HTTP_MAX_CONNECTIONS \\(300\\)",
        ),
        (
            {"CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "0"},
            "CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS",
        ),
        ({"CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "2.5"}, "must be a whole number"),
        ({"CONFID_WEBSOCKETS_PER_TOKEN": "0"}, "CONFID_WEBSOCKETS_PER_TOKEN"),
        ({"CONFID_WEBSOCKET_IDLE_SECONDS": "0"}, "CONFID_WEBSOCKET_IDLE_SECONDS"),
    ],
)
def test_bad_connection_limits_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)

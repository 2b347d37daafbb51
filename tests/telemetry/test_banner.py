"""CONFID_METRICS*, CONFID_LOG_* and the banner built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError
from app.telemetry.banner import Banner, browsable


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


def test_the_banner_says_where_everything_is(tmp_path: Path) -> None:
    demo = Banner.of(Settings(), 8000)
    assert demo.admin_page == "http://127.0.0.1:8000/"
    assert demo.graphiql == "http://127.0.0.1:8000/graphql"
    assert demo.tokens.startswith("demo tokens printed above")
    assert demo.metrics.startswith("off")
    served = Settings(
        host="0.0.0.0",
        metrics=True,
        metrics_port=9100,
        metrics_host="10.1.2.3",
        mongodb_url="mongodb://db/confid",
        tokens_file=tmp_path / "tokens.toml",
    )
    banner = Banner.of(served, 8000)
    assert banner.admin_page == "http://127.0.0.1:8000/"  # 0.0.0.0 is no address to open
    assert banner.metrics == "http://10.1.2.3:9100/metrics"
    assert banner.tokens == f"hashes in {tmp_path / 'tokens.toml'} (CONFID_TOKENS_FILE)"
    assert banner.store == "MongoDB, database confid"
    oidc = Banner.of(
        Settings(mongodb_url="mongodb://db", oidc_issuer="https://id.example", metrics=True), 1
    )
    assert oidc.tokens.startswith("none static") and oidc.tokens.endswith("https://id.example")
    assert oidc.metrics == "http://127.0.0.1:1/metrics"
    assert browsable("::1", 8000) == "http://[::1]:8000"

"""The start-up banner (app.telemetry.banner): where the admin page, GraphiQL, the tokens
and the metrics are."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings
from app.telemetry.banner import Banner, browsable


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

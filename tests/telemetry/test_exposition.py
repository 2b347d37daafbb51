"""Serving /metrics (app.telemetry.exposition) from a real `python -m app` under uvicorn:
the metrics port of its own, JSON and plain logs, and the start-up banner."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.api import TOKENS, operation
from tests.support.scrape import Scrape
from tests.support.served import free_port, running_confid

ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def gql(base: str, name: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
    return httpx.post(
        f"{base}/graphql",
        json={"query": operation(name), "variables": variables or {}},
        headers={**ADMIN, **headers},
        timeout=30,
    )


def test_metrics_on_their_own_port_and_json_lines(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "confid.log"
    chosen = "5081937"
    with running_confid(
        tmp_path, log_path, CONFID_METRICS_PORT=str(port), CONFID_LOG_FORMAT="json"
    ) as base:
        viewer = gql(base, "Viewer", **{"X-Request-Id": "client-1"})
        assert viewer.status_code == 200
        users = gql(base, "ListUsers", {"first": 5}).json()["data"]["users"]["edges"]
        user = next(e["node"] for e in users if e["node"]["audioConferencing"])
        changed = gql(
            base, "SetConferenceId", {"input": {"userId": user["id"], "conferenceId": chosen}}
        )
        assert changed.json()["data"]["setConferenceId"]["userErrors"] == []
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/graphql", timeout=10).status_code == 404
    metrics = Scrape.parse(scraped.text)
    assert (
        metrics.value(
            "confid_graphql_requests_total", operation="Viewer", type="query", outcome="ok"
        )
        == 1
    )
    assert metrics.value("confid_conference_id_changes_total", action="SET", outcome="SUCCESS") == 1
    assert metrics.value("confid_vitals_up") == 1

    text = log_path.read_text(encoding="utf-8")
    for secret in [*TOKENS.values(), chosen, "Bearer"]:
        assert secret not in text, secret
    assert "authorization" not in text.lower()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    [line] = [r for r in records if r.get("request_id") == viewer.headers["X-Request-Id"]]
    assert line["logger"] == "confid.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["operation_type"], line["actor"]) == (
        "Viewer", "query", "admin-1",
    )  # fmt: skip
    assert line["client_request_id"] == "client-1" and line["client_ip"] == "127.0.0.1"
    [ready] = [r for r in records if r["message"] == "confid ready"]
    assert ready["metrics"] == f"http://127.0.0.1:{port}/metrics"
    assert ready["admin_page"] == f"{base}/" and ready["graphiql"] == f"{base}/graphql"
    assert "CONFID_TOKENS_FILE" in ready["tokens"]


def test_plain_lines_and_metrics_on_the_main_port(tmp_path: Path) -> None:
    log_path = tmp_path / "confid.log"
    with running_confid(tmp_path, log_path, CONFID_METRICS="on") as base:
        viewer = gql(base, "Viewer")
        scraped = httpx.get(f"{base}/metrics", timeout=10)
    assert scraped.status_code == 200
    assert (
        Scrape.parse(scraped.text).value(
            "confid_http_requests_total", route="/graphql", method="POST", status="200"
        )
        == 1
    )
    text = log_path.read_text(encoding="utf-8")
    rid = viewer.headers["X-Request-Id"]
    pattern = (
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO confid\.access POST /graphql 200 "
        rf"\d+\.\dms op=Viewer type=query actor=admin-1 rid={rid} ip=127\.0\.0\.1$"
    )
    assert len(re.findall(pattern, text, re.MULTILINE)) == 1, text
    assert "GET /metrics" not in text  # scrapes are logged at DEBUG
    banner = text[text.index("confid is ready") :].splitlines()[:6]
    assert banner == [
        "confid is ready",
        f"  admin page  {base}/",
        f"  GraphiQL    {base}/graphql",
        f"  tokens      hashes in {tmp_path / 'tokens.toml'} (CONFID_TOKENS_FILE)",
        f"  metrics     {base}/metrics",
        "  data        embedded, in memory: data is lost at exit",
    ]
    assert "!!" not in text and "****" not in text  # no warning boxes


def test_a_taken_metrics_port_stops_start_up_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        reason = rf"cannot serve metrics on 127\.0\.0\.1:{port}"
        with (
            pytest.raises(RuntimeError, match=reason),
            running_confid(tmp_path, CONFID_METRICS_PORT=str(port)),
        ):
            pass  # pragma: no cover - start-up must fail

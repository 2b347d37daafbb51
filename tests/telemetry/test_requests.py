"""The request middleware (app.telemetry.requests): one access-log line per request, plain
or JSON, with the request id and never a secret; the throttle hook; a crash logged once."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.exchange import note_throttled
from app.api.origin import RequestOrigin
from app.services.tokens import hash_token
from app.settings import Settings
from app.telemetry.logs import ACCESS_KEYS, JsonFormatter, PlainFormatter
from app.telemetry.metrics import Metrics
from app.telemetry.requests import RequestTelemetry
from tests.support.api import TOKENS, Api, make_api, operation
from tests.support.scrape import Scrape

PLAIN = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) confid\.access "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms(?P<rest>.*)"
)


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="confid.access")
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "confid.access"]


async def test_each_request_gets_one_plain_line_with_its_request_id(
    api: Api, access: pytest.LogCaptureFixture
) -> None:
    access.clear()
    response = await api.post({"query": operation("Viewer")}, headers={"X-Request-Id": "ticket-7"})
    rid = response.headers["X-Request-Id"]
    [record] = lines(access)
    text = PlainFormatter().format(record)
    match = PLAIN.fullmatch(text)
    assert match, text
    assert (match["level"], match["method"], match["path"], match["status"]) == (
        "INFO", "POST", "/graphql", "200",
    )  # fmt: skip
    assert match["rest"] == (
        f" op=Viewer type=query actor=admin-1 rid={rid} client_rid=ticket-7 ip=203.0.113.7"
    )


async def test_the_json_line_carries_the_audit_entrys_request_id(
    api: Api, access: pytest.LogCaptureFixture
) -> None:
    user = await api.enabled_user()
    access.clear()
    response = await api.post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": user["id"]}}}
    )
    assert response.json()["data"]["resetConferenceId"]["userErrors"] == []
    [record] = lines(access)
    line = json.loads(JsonFormatter().format(record))
    assert list(line) == ["time", "level", "logger", "message", *ACCESS_KEYS]
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert (line["operation"], line["operation_type"], line["actor"]) == (
        "ResetConferenceId", "mutation", "admin-1",
    )  # fmt: skip
    assert line["status"] == 200 and line["errors"] == [] and line["throttled"] is None
    assert isinstance(line["duration_ms"], float)
    events = await api.data(operation("ListAuditEvents"), {"userId": user["id"], "first": 1})
    [entry] = [e["node"] for e in events["auditEvents"]["edges"]]
    assert entry["action"] == "RESET"
    assert entry["requestId"] == line["request_id"]


async def test_no_token_header_or_conference_id_is_ever_logged(
    api: Api, access: pytest.LogCaptureFixture
) -> None:
    user = await api.enabled_user()
    chosen = "5081937"
    set_id = await api.data(
        operation("SetConferenceId"),
        {"input": {"userId": user["id"], "conferenceId": chosen, "reason": "PIN-like"}},
    )
    assert set_id["setConferenceId"]["userErrors"] == []
    await api.data(
        operation("CheckConferenceId"), {"userId": user["id"], "conferenceId": "8159263"}
    )
    await api.post({"query": operation("Viewer")}, token="wrong-secret-token")
    await api.client.post(
        "/graphql?access_token=query-string-token", json={"query": operation("Viewer")}
    )
    await api.client.get(
        "/graphql",
        params={"query": "{ viewer { name } }", "token": "another-query-token"},
        headers={"Authorization": "Bearer " + TOKENS["auditor"]},
    )
    await api.client.get("/audit/export", headers={"Authorization": "Bearer " + TOKENS["auditor"]})
    records = lines(access)
    assert len(records) >= 7
    text = "\n".join(
        formatter.format(r) for r in records for formatter in (PlainFormatter(), JsonFormatter())
    )
    for secret in [*TOKENS.values(), "wrong-secret-token", "query-string-token",
                   "another-query-token", chosen, "8159263", "Bearer", "PIN-like"]:  # fmt: skip
        assert secret not in text, secret
    assert "authorization" not in text.lower()
    assert "actor=auditor-1" in text  # the export's line names who read it


async def test_probes_and_static_files_are_quiet_unless_they_fail(
    api: Api, access: pytest.LogCaptureFixture
) -> None:
    access.clear()
    await api.client.get("/healthz")
    await api.client.get("/readyz")
    await api.client.get("/static/admin/index.html")
    await api.client.get("/static/admin/no-such-file.js")
    await api.client.get("/nowhere")
    levels = [(r.levelname, r.getMessage().split(" ")[1]) for r in lines(access)]
    assert levels == [
        ("DEBUG", "/healthz"),
        ("DEBUG", "/readyz"),
        ("DEBUG", "/static/admin/index.html"),
        ("INFO", "/static/admin/no-such-file.js"),
        ("INFO", "/nowhere"),
    ]


async def test_a_name_cannot_forge_a_line(
    settings: Settings, raw_database: Any, tmp_path: Path, access: pytest.LogCaptureFixture
) -> None:
    tokens = tmp_path / "odd.toml"
    tokens.write_text(
        '[[tokens]]\nname = "eve\\n2026-01-01T00:00:00.000Z INFO confid.access GET / 200"\n'
        f'role = "admin"\nsha256 = "{hash_token("odd-token")}"\n',
        encoding="utf-8",
    )
    odd = await make_api(replace(settings, tokens_file=tokens), raw_database)
    access.clear()
    await odd.post({"query": operation("Viewer")}, token="odd-token")
    [record] = lines(access)
    text = PlainFormatter().format(record)
    assert "\n" not in text
    assert 'actor="eve\\n2026-01-01T00:00:00.000Z INFO confid.access GET / 200"' in text
    await odd.client.aclose()


@pytest.fixture
async def throttling() -> AsyncIterator[tuple[httpx.AsyncClient, Metrics]]:
    """An app whose one route is refused by a (stand-in) rate limit, and one that fails."""

    async def limited(request: Request) -> Response:
        note_throttled(request.scope, "graphql_per_client")
        return JSONResponse({"errors": [{"message": "slow down"}]}, status_code=429)

    async def broken(request: Request) -> Response:
        raise RuntimeError("bug")

    metrics = Metrics(frozenset())
    app = Starlette(
        routes=[Route("/limited", limited), Route("/broken", broken)],
        middleware=[Middleware(RequestOrigin), Middleware(RequestTelemetry, metrics=metrics)],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client, metrics


async def test_the_throttle_hook_counts_and_logs_the_limit(
    throttling: tuple[httpx.AsyncClient, Metrics], access: pytest.LogCaptureFixture
) -> None:
    client, metrics = throttling
    for _ in range(3):
        assert (await client.get("/limited")).status_code == 429
    body, _ = await metrics.exposition(None)
    scrape = Scrape.parse(body.decode())
    assert scrape.value("confid_throttled_requests_total", limit="graphql_per_client") == 3
    assert scrape.value("confid_http_requests_total", route="/limited", method="GET",
                        status="429") == 3  # fmt: skip
    assert all(" throttled=graphql_per_client " in r.getMessage() for r in lines(access))


async def test_a_crash_is_logged_once_as_a_500(
    throttling: tuple[httpx.AsyncClient, Metrics], access: pytest.LogCaptureFixture
) -> None:
    client, metrics = throttling
    access.clear()
    assert (await client.get("/broken")).status_code == 500
    [record] = lines(access)
    assert record.levelname == "WARNING" and " 500 " in record.getMessage()
    body, _ = await metrics.exposition(None)
    assert (
        Scrape.parse(body.decode()).value(
            "confid_http_requests_total", route="/broken", method="GET", status="500"
        )
        == 1
    )

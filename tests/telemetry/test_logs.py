"""Log lines (app.telemetry.logs): plain or JSON, one line whatever they carry."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from app.telemetry.logs import ACCESS_KEYS, JsonFormatter, access_message


def test_the_plain_message_leaves_out_what_is_absent() -> None:
    fields: dict[str, Any] = dict.fromkeys(ACCESS_KEYS)
    fields.update(method="GET", path="/a b", status=404, duration_ms=0.04, errors=[])
    assert access_message(fields) == 'GET "/a b" 404 0.0ms'
    fields.update(errors=["BAD_REQUEST", "FORBIDDEN"], request_id="r1", client_ip="::1")
    assert (
        access_message(fields) == 'GET "/a b" 404 0.0ms errors=BAD_REQUEST,FORBIDDEN rid=r1 ip=::1'
    )


def test_an_exception_in_json_mode_stays_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "confid", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


def _knock(url: str, **options: Any) -> None:
    """Open a websocket, send an empty `connection_init`, take the answer (a refusal)."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from tests.support.live import PROTOCOL

    try:
        with connect(url, subprotocols=[PROTOCOL], open_timeout=10, **options) as ws:
            try:
                ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                ws.recv(timeout=10)
            except ConnectionClosed:
                pass
    except InvalidStatus:  # refused in the handshake (a foreign origin: 403)
        pass


def test_no_token_in_a_websocket_url_reaches_the_log(tmp_path: Path) -> None:
    """uvicorn logs each websocket handshake with its URL: a token put in the query string
    (refused by confid with 4401) must not be kept by that line, in either format."""
    from tests.support.served import running_confid

    secret = "not-a-real-token-but-secret-4f2a9c"
    for log_format in ("plain", "json"):
        log_path = tmp_path / f"confid-{log_format}.log"
        with running_confid(tmp_path, log_path, CONFID_LOG_FORMAT=log_format) as base:
            url = base.replace("http://", "ws://") + "/graphql"
            _knock(f"{url}?token={secret}")
            _knock(f"{url}?Access_Token={secret}&x=1")
            _knock(f"{url}?token={secret}", origin="https://evil.example")
        text = log_path.read_text()
        assert "WebSocket /graphql?…" in text, text[-2000:]
        assert secret not in text

"""Log lines (app.telemetry.logs): plain or JSON, one line whatever they carry."""

from __future__ import annotations

import json
import logging
import sys
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

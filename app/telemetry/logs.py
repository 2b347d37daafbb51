"""Logging: plain text (default) or JSON lines, and the one line each request gets.

The standard library's `logging` is used, not structlog: uvicorn, pymongo, aiosmtplib and
Strawberry all log through it already, so one formatter on the root handler gives every
line of the process the same shape, JSON included, with no bridge and no new dependency.
A request's fields travel as `record.fields`; the JSON formatter puts them at the top
level of the object, the plain formatter has them in the message as `key=value`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ACCESS = logging.getLogger("confid.access")

PATH_MAX = 256
_BARE = re.compile(r"[^\s\"'=\\\x00-\x1f\x7f]{1,300}")

#: The keys of a request's JSON line, in this order, every one always present.
ACCESS_KEYS = (
    "method", "path", "route", "status", "duration_ms", "request_id", "client_request_id",
    "operation", "operation_type", "actor", "errors", "throttled", "client_ip",
)  # fmt: skip


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _value(value: object) -> str:
    """A `key=value` value: bare when it is one harmless word, else a JSON string (so a
    newline or a quote in a name can never forge or break a line)."""
    text = str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text)


class PlainFormatter(logging.Formatter):
    """`2026-11-29T08:30:00.123Z INFO confid.access message`, exceptions below it."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class NoQueryStrings(logging.Filter):
    """uvicorn logs each websocket handshake itself (`"WebSocket /graphql?…" [accepted]`,
    `403`, a status) with the URL's query string, which may hold a token someone put there
    (confid refuses it, but the line would keep it): the query string is cut from those
    lines, whatever else is in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.name.startswith("uvicorn")
            and isinstance(record.msg, str)
            and '"WebSocket %s"' in record.msg
            and isinstance(record.args, tuple)
            and len(record.args) >= 2
            and isinstance(record.args[1], str)
        ):
            path, _, query = record.args[1].partition("?")
            redacted = f"{path}?…" if query else path
            record.args = (record.args[0], redacted, *record.args[2:])
        return True


def configure_logging(log_format: str, level: str) -> None:
    """Send every logger's records to stderr in `log_format` (plain or json). `level`
    applies to confid's own loggers; libraries stay at INFO or above (their debug output
    is a flood, and pymongo's would include commands)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(NoQueryStrings())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    confid_level = getattr(logging, level.upper())
    root.setLevel(max(confid_level, logging.INFO))
    logging.getLogger("confid").setLevel(confid_level)


def access_message(fields: Mapping[str, Any]) -> str:
    """The plain-text form of a request's line (what follows time, level and logger):
    `POST /graphql 200 4.1ms op=ResetConferenceId type=mutation actor=admin-1 rid=… ip=…`.
    Absent values are left out."""
    errors = fields.get("errors")
    parts = [
        _value(fields["method"]),
        _value(fields["path"]),
        str(fields["status"]),
        f"{fields['duration_ms']:.1f}ms",
    ]
    for name, value in (
        ("op", fields.get("operation")),
        ("type", fields.get("operation_type")),
        ("actor", fields.get("actor")),
        ("errors", ",".join(_value(code) for code in errors) if errors else None),
        ("throttled", fields.get("throttled")),
        ("rid", fields.get("request_id")),
        ("client_rid", fields.get("client_request_id")),
        ("ip", fields.get("client_ip")),
    ):
        if value is not None:
            parts.append(f"{name}={value if name == 'errors' else _value(value)}")
    return " ".join(parts)


def log_request(fields: Mapping[str, Any], *, quiet: bool) -> None:
    """Write a request's one line: DEBUG when `quiet` (probes, scrapes, static files that
    went well), WARNING for a server error, else INFO."""
    status = int(fields["status"])
    level = logging.WARNING if status >= 500 else logging.DEBUG if quiet else logging.INFO
    if ACCESS.isEnabledFor(level):
        ACCESS.log(level, "%s", access_message(fields), extra={"fields": dict(fields)})


def bounded_path(path: str) -> str:
    """The request path as logged: never the query string, at most PATH_MAX characters."""
    return path if len(path) <= PATH_MAX else path[:PATH_MAX] + "…"

"""The audit export format (JSON Lines or CSV), written by the server and read offline.

JSON Lines: a `manifest` line, the `checkpoint` lines, one `entry` line per entry in
sequence order, and an `end` line with the count (so a cut-off file is noticed).
CSV (RFC 4180): `#manifest`, `#checkpoint` and `#end` rows with the JSON in the second
cell, a header row, and one row per entry. Empty cells are absent values (confid stores no
empty strings in hashed fields) and list cells are JSON arrays, so every entry round-trips
to the exact bytes that were hashed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import Any

from app.domain.audit import canonical_fields
from app.domain.checkpoint import Checkpoint
from app.domain.errors import UserErrorCode
from app.domain.instants import iso_millis
from app.domain.models import Actor, AuditAction, AuditEntry, AuditOutcome, Role

FORMAT = "confid-audit-export/1"
CSV_COLUMNS = [
    "sequence", "occurredAt", "action", "outcome", "errorCodes", "userId", "bridgeId",
    "previousConferenceId", "newConferenceId", "actorName", "actorRole", "sourceIp",
    "userAgent", "requestId", "reason", "recipients", "toNonPrimary", "operationId",
    "previousHash", "keyId", "hash", "signature",
]  # fmt: skip


class ExportFormatError(ValueError):
    """The file is not a confid audit export (the message says where and why)."""


def entry_record(entry: AuditEntry) -> dict[str, Any]:
    """An entry as an export record: every hashed field, the hash and the signature."""
    record = canonical_fields(entry)
    record["hash"] = entry.hash
    record["signature"] = entry.signature
    return record


def checkpoint_record(cp: Checkpoint) -> dict[str, Any]:
    return {
        "sequence": cp.sequence,
        "hash": cp.hash,
        "signedAt": iso_millis(cp.signed_at),
        "keyId": cp.key_id,
        "signature": cp.signature,
    }


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def entry_from_record(record: dict[str, Any]) -> AuditEntry:
    actor = record["actor"]
    return AuditEntry(
        sequence=int(record["sequence"]),
        occurred_at=_time(record["occurredAt"]),
        action=AuditAction(record["action"]),
        outcome=AuditOutcome(record["outcome"]),
        error_codes=tuple(UserErrorCode(c) for c in record["errorCodes"]),
        user_id=record.get("userId"),
        bridge_id=record.get("bridgeId"),
        previous_conference_id=record.get("previousConferenceId"),
        new_conference_id=record.get("newConferenceId"),
        actor=Actor(actor["name"], Role(actor["role"])),
        source_ip=record.get("sourceIp"),
        user_agent=record.get("userAgent"),
        request_id=record.get("requestId"),
        reason=record.get("reason"),
        recipients=tuple(record.get("recipients") or ()),
        to_non_primary=bool(record.get("toNonPrimary")),
        operation_id=record["operationId"],
        previous_hash=record["previousHash"],
        hash=record["hash"],
        key_id=record.get("keyId"),
        signature=record.get("signature"),
    )


def checkpoint_from_record(record: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        sequence=int(record["sequence"]),
        hash=str(record["hash"]),
        signed_at=_time(record["signedAt"]),
        key_id=str(record["keyId"]),
        signature=str(record["signature"]),
    )


def csv_row(entry: AuditEntry) -> list[str]:
    record = entry_record(entry)
    values = {
        **record,
        "errorCodes": json.dumps(record["errorCodes"]),
        "recipients": json.dumps(record["recipients"], ensure_ascii=False),
        "actorName": record["actor"]["name"],
        "actorRole": record["actor"]["role"],
        "toNonPrimary": "true" if record["toNonPrimary"] else "false",
    }
    return ["" if values.get(c) is None else str(values[c]) for c in CSV_COLUMNS]


def _json_list(cell: str) -> list[str]:
    value = json.loads(cell or "[]")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("a list cell is not a JSON array of strings")
    return value


def _record_from_row(row: dict[str, str]) -> dict[str, Any]:
    def opt(name: str) -> str | None:
        return row[name] or None

    return {
        "sequence": int(row["sequence"]),
        "occurredAt": row["occurredAt"],
        "action": row["action"],
        "outcome": row["outcome"],
        "errorCodes": _json_list(row["errorCodes"]),
        "userId": opt("userId"),
        "bridgeId": opt("bridgeId"),
        "previousConferenceId": opt("previousConferenceId"),
        "newConferenceId": opt("newConferenceId"),
        "actor": {"name": row["actorName"], "role": row["actorRole"]},
        "sourceIp": opt("sourceIp"),
        "userAgent": opt("userAgent"),
        "requestId": opt("requestId"),
        "reason": opt("reason"),
        "recipients": _json_list(row["recipients"]),
        "toNonPrimary": row["toNonPrimary"] == "true",
        "operationId": row["operationId"],
        "previousHash": row["previousHash"],
        "keyId": opt("keyId"),
        "hash": row["hash"],
        "signature": opt("signature"),
    }


def csv_text(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(row)
    return out.getvalue()


def comment_line(kind: str, body: dict[str, Any]) -> str:
    """A manifest, checkpoint or end record as a CSV row: `#kind,{json}`."""
    return csv_text(["#" + kind, json.dumps(body, separators=(",", ":"), ensure_ascii=False)])


def json_line(kind: str, body: dict[str, Any]) -> str:
    return json.dumps({"type": kind, **body}, separators=(",", ":"), ensure_ascii=False) + "\n"


def read_export(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Yield ("manifest"|"entry"|"checkpoint"|"end", value) from either format, streaming.

    Entries come as (line number, entry or None, problem or None), so one mangled line is
    reported where it is rather than stopping the read.
    """
    iterator = iter(lines)
    first = next(iterator, "")
    if first.startswith("#manifest,"):
        yield from _read_csv(chain([first], iterator))
        return
    for number, line in enumerate(chain([first], iterator), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind = record.pop("type")
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
            if number == 1:
                raise ExportFormatError(f"line 1 is not a JSON manifest: {exc}") from None
            yield "entry", (number, None, f"line {number} is not a JSON record")
            continue
        yield from _typed(kind, record, number)


def _typed(kind: str, record: dict[str, Any], number: int) -> Iterator[tuple[str, Any]]:
    if kind == "entry":
        try:
            yield "entry", (number, entry_from_record(record), None)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            sequence = record.get("sequence") if isinstance(record, dict) else None
            yield "entry", (number, None, f"line {number} (sequence {sequence}): {exc!r}")
    elif kind == "checkpoint":
        try:
            yield "checkpoint", checkpoint_from_record(record)
        except (KeyError, ValueError, TypeError) as exc:
            raise ExportFormatError(f"line {number}: malformed checkpoint: {exc!r}") from None
    elif kind in ("manifest", "end"):
        yield kind, record
    else:
        raise ExportFormatError(f"line {number}: unknown record type {kind!r}")


def _read_csv(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """Every row is a CSV record (quoted fields may span lines): `#kind,{json}` records,
    the header row, and entry rows."""
    header_seen = False
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row:
            continue
        if row[0].startswith("#"):
            try:
                record = json.loads(row[1]) if len(row) == 2 else None
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                raise ExportFormatError(f"CSV record {number}: a malformed {row[0]} record")
            yield from _typed(row[0][1:], record, number)
        elif not header_seen:
            if row != CSV_COLUMNS:
                raise ExportFormatError("the CSV header row is not confid's")
            header_seen = True
        else:
            try:
                if len(row) != len(CSV_COLUMNS):
                    raise ValueError(f"{len(row)} cells instead of {len(CSV_COLUMNS)}")
                entry = entry_from_record(
                    _record_from_row(dict(zip(CSV_COLUMNS, row, strict=True)))
                )
                yield "entry", (number, entry, None)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                yield "entry", (number, None, f"CSV record {number}: {exc!r}")

"""The audit export format (JSON Lines or CSV), written by the server and read offline.

The specification an auditor can implement a reader from is docs/export-format.md.

JSON Lines: a `manifest` line, the `checkpoint` lines, one `entry` line per entry in
sequence order, and an `end` line with the count (so a cut-off file is noticed) and, from
format 4 on, the export's seal: confid's signed statement of what the file holds
(app/domain/export_seal.py), so that a file cut short with its counts edited is noticed too.
CSV (RFC 4180): `#manifest`, `#checkpoint` and `#end` rows with the JSON in the second
cell, a header row, and one row per entry. Empty cells are absent values (confid stores no
empty strings in hashed fields) and list cells are JSON arrays. From format 2 on, every
CSV cell is made safe to open in a spreadsheet (`safe_cell`) in a way `unsafe_cell` undoes
exactly, so every entry still round-trips to the exact bytes that were hashed.

Versions: 1 the first release; 2 safe CSV cells and `clientRequestId`; 3 the actor's
identity keys (`issuer`, `subject`, `displayName`; CSV columns `actorIssuer`,
`actorSubject`, `actorDisplayName`); 4 the seal in the `end` record. A reader of version N
refuses a later version rather than misread it; this one reads all four (older files have
none of the newer keys, and their entries hash as they always did; their end is unsigned).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import chain
from typing import Any

from app.domain.checkpoint import Checkpoint
from app.domain.encoding import from_record, record
from app.domain.entry import ACTOR, FIELDS, AuditEntry, Kind
from app.domain.instants import iso_millis

FORMAT = "confid-audit-export/4"
# Formats written before the seal: a reader verifies them as before, but nothing signs
# their manifest or end record.
UNSEALED_FORMATS = ("confid-audit-export/1", "confid-audit-export/2", "confid-audit-export/3")
READABLE_FORMATS = (*UNSEALED_FORMATS, FORMAT)


class ExportFormatError(ValueError):
    """The file is not a confid audit export (the message says where and why)."""


# --- records --------------------------------------------------------------------------


def entry_record(entry: AuditEntry) -> dict[str, Any]:
    """An entry as an export record: every hashed field, the hash and the signature."""
    return record(entry)


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


def checkpoint_from_record(data: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        sequence=int(data["sequence"]),
        hash=str(data["hash"]),
        signed_at=_time(data["signedAt"]),
        key_id=str(data["keyId"]),
        signature=str(data["signature"]),
    )


# --- CSV: columns, cells made safe for spreadsheets ------------------------------------


def _columns() -> tuple[tuple[str, str, str | None, int], ...]:
    """(column, field name, actor key, since) for every field; the actor spreads over
    columns (`actorName`, `actorRole`, `actorIssuer`, ...)."""
    out: list[tuple[str, str, str | None, int]] = []
    for field in FIELDS:
        if field.kind is Kind.ACTOR:
            out += [
                (f"actor{key.name[0].upper()}{key.name[1:]}", field.name, key.name, key.since)
                for key in ACTOR
            ]
        else:
            out.append((field.name, field.name, None, field.since))
    return tuple(out)


COLUMNS = _columns()
CSV_COLUMNS = [column for column, _, _, _ in COLUMNS]
# Columns every export has; those of later fields and actor keys may be missing from older
# files.
_REQUIRED = {column for column, _, _, since in COLUMNS if since == 1}
_OPTIONAL_ACTOR_KEYS = {key.name for key in ACTOR if key.since > 1}
_LISTS = {f.name for f in FIELDS if f.kind in (Kind.ENUM_LIST, Kind.TEXT_LIST)}

# OWASP CSV injection: a spreadsheet runs a cell starting with these as a formula. A
# leading apostrophe makes it text; an original leading apostrophe is doubled, so the
# reader strips exactly one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
# Control characters other than tab and line breaks are written as \u00XX; a backslash is
# doubled, so that an escape in the file is never confused with text.
_ESCAPE = re.compile(r"[\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UNESCAPE = re.compile(r"\\(\\|u[0-9a-f]{4})")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return "\\\\" if char == "\\" else f"\\u{ord(char):04x}"


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    return "\\" if code == "\\" else chr(int(code[1:], 16))


def safe_cell(text: str) -> str:
    """A cell that no spreadsheet runs as a formula and that shows no control characters."""
    text = _ESCAPE.sub(_escape, text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def unsafe_cell(cell: str) -> str:
    """Exactly the text `safe_cell` was given."""
    if cell.startswith("'"):
        cell = cell[1:]
    return _UNESCAPE.sub(_unescape, cell)


def csv_row(entry: AuditEntry) -> list[str]:
    """One entry as CSV cells, in `CSV_COLUMNS` order."""
    data = record(entry)
    cells: list[str] = []
    for _, name, actor_key, _ in COLUMNS:
        value = data.get(name)
        if actor_key is not None:
            value = value.get(actor_key) if isinstance(value, dict) else None
        if name in _LISTS:
            text = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = "" if value is None else str(value)
        cells.append(safe_cell(text))
    return cells


def _record_from_row(row: Mapping[str, str], escaped: bool) -> dict[str, Any]:
    def cell(column: str) -> str:
        text = row.get(column, "")
        return unsafe_cell(text) if escaped else text

    data: dict[str, Any] = {}
    for column, name, actor_key, _ in COLUMNS:
        if column not in row:
            continue
        text = cell(column)
        field = next(f for f in FIELDS if f.name == name)
        value: Any
        if actor_key is not None:
            if text or actor_key not in _OPTIONAL_ACTOR_KEYS:
                data.setdefault(name, {})[actor_key] = text
            continue
        if name in _LISTS:
            value = json.loads(text or "[]")
        elif field.kind is Kind.INT:
            value = int(text)
        elif field.kind is Kind.BOOL:
            value = text == "true"
        elif field.kind is Kind.OPTIONAL_TEXT:
            value = text or None
        else:
            value = text
        if value is not None or field.since == 1:
            data[name] = value
    return data


def csv_text(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(row)
    return out.getvalue()


def comment_line(kind: str, body: dict[str, Any]) -> str:
    """A manifest, checkpoint or end record as a CSV row: `#kind,{json}`."""
    return csv_text(["#" + kind, json.dumps(body, separators=(",", ":"), ensure_ascii=False)])


def json_line(kind: str, body: dict[str, Any]) -> str:
    return json.dumps({"type": kind, **body}, separators=(",", ":"), ensure_ascii=False) + "\n"


# --- reading either format, streaming ---------------------------------------------------


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
            data = json.loads(line)
            kind = data.pop("type")
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
            if number == 1:
                raise ExportFormatError(f"line 1 is not a JSON manifest: {exc}") from None
            yield "entry", (number, None, f"line {number} is not a JSON record")
            continue
        if kind == "manifest":
            _check_format(data)
        yield from _typed(kind, data, number)


def _check_format(manifest: dict[str, Any]) -> None:
    if manifest.get("format") not in READABLE_FORMATS:
        raise ExportFormatError(
            f"unknown export format {manifest.get('format')!r} (this reader knows "
            f"{', '.join(READABLE_FORMATS)})"
        )


def _typed(kind: str, data: dict[str, Any], number: int) -> Iterator[tuple[str, Any]]:
    if kind == "entry":
        try:
            yield "entry", (number, from_record(data), None)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            sequence = data.get("sequence") if isinstance(data, dict) else None
            yield "entry", (number, None, f"line {number} (sequence {sequence}): {exc!r}")
    elif kind == "checkpoint":
        try:
            yield "checkpoint", checkpoint_from_record(data)
        except (KeyError, ValueError, TypeError) as exc:
            raise ExportFormatError(f"line {number}: malformed checkpoint: {exc!r}") from None
    elif kind in ("manifest", "end"):
        yield kind, data
    else:
        raise ExportFormatError(f"line {number}: unknown record type {kind!r}")


def _header(row: list[str]) -> list[str]:
    known = set(CSV_COLUMNS)
    if len(set(row)) != len(row) or not set(row) <= known or not set(row) >= _REQUIRED:
        raise ExportFormatError("the CSV header row is not confid's")
    return row


def _read_csv(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """Every row is a CSV record (quoted fields may span lines): `#kind,{json}` records,
    the header row, and entry rows."""
    header: list[str] | None = None
    escaped = True
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row:
            continue
        if row[0].startswith("#"):
            try:
                data = json.loads(row[1]) if len(row) == 2 else None
            except json.JSONDecodeError:
                data = None
            if not isinstance(data, dict):
                raise ExportFormatError(f"CSV record {number}: a malformed {row[0]} record")
            if row[0] == "#manifest":
                _check_format(data)
                escaped = data.get("format") != "confid-audit-export/1"
            yield from _typed(row[0][1:], data, number)
        elif header is None:
            header = _header(row)
        else:
            try:
                if len(row) != len(header):
                    raise ValueError(f"{len(row)} cells instead of {len(header)}")
                data = _record_from_row(dict(zip(header, row, strict=True)), escaped)
                yield "entry", (number, from_record(data), None)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                yield "entry", (number, None, f"CSV record {number}: {exc!r}")

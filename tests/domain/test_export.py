"""The audit export format (app.domain.export): which formats it reads, and files written in
older formats."""

from __future__ import annotations

import json

import pytest

from app.audit.verify import verify_export
from app.domain.export import (
    FORMAT,
    READABLE_FORMATS,
    UNSEALED_FORMATS,
    ExportFormatError,
    read_export,
)
from tests.support.audit import FORMAT2, file_lines, split_lines


def test_a_first_format_csv_still_reads_and_verifies() -> None:
    """Exports written before cells were made safe (format 1) are read as they were."""
    from app.domain.chain import GENESIS_HASH, seal
    from app.domain.encoding import record
    from app.domain.entry import BY_NAME
    from app.domain.export import CSV_COLUMNS, comment_line, csv_text, read_export
    from tests.support.entries import draft

    entry = seal(draft(), 1, GENESIS_HASH)
    data = record(entry)
    # A first-format file has only the columns of fields that encoding 1 already had.
    later = {"actorIssuer", "actorSubject", "actorDisplayName"}
    old_columns = [
        c
        for c in CSV_COLUMNS
        if c not in later and (c.startswith("actor") or BY_NAME[c].since == 1)
    ]
    cells = {
        **{k: "" if v is None else str(v) for k, v in data.items()},
        "errorCodes": json.dumps(data["errorCodes"]),
        "recipients": json.dumps(data["recipients"], ensure_ascii=False),
        "actorName": "alice",
        "actorRole": "ADMIN",
        "toNonPrimary": "true",
        "signature": "",
    }
    text = (
        comment_line("manifest", {"format": "confid-audit-export/1", "count": 1})
        + csv_text(old_columns)
        + csv_text([cells[c] for c in old_columns])
        + comment_line("end", {"count": 1})
    )
    (read,) = [v[1] for k, v in read_export(split_lines(text)) if k == "entry"]
    assert read == entry
    assert verify_export(split_lines(text)).ok


def test_the_current_format_is_4_and_older_ones_stay_readable() -> None:
    assert FORMAT == "confid-audit-export/4"
    assert set(READABLE_FORMATS) == {f"confid-audit-export/{n}" for n in (1, 2, 3, 4)}
    assert set(UNSEALED_FORMATS) == set(READABLE_FORMATS) - {FORMAT}


def test_a_later_format_is_refused_not_misread() -> None:
    manifest = json.loads(file_lines(FORMAT2[0])[0])
    manifest["format"] = "confid-audit-export/5"
    with pytest.raises(ExportFormatError, match="unknown export format"):
        list(read_export([json.dumps(manifest) + "\n"]))

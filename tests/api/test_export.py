"""GET /audit/export and offline verification of what it writes, in both formats."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from app.audit.verify import verify_export
from tests.support.api import ROOT, TOKENS, Api, operation
from tests.support.audit import export_text, history


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


async def test_full_export_has_a_manifest_and_verifies(api: Api) -> None:
    await history(api)
    await api.data(operation("CreateAuditCheckpoint"))
    text = await export_text(api)
    records = [json.loads(line) for line in text.splitlines()]
    manifest, end = records[0], records[-1]
    entries = [r for r in records if r["type"] == "entry"]
    assert manifest["type"] == "manifest" and manifest["partial"] is False
    assert manifest["count"] == len(entries) == manifest["lastSequence"] == manifest["headSequence"]
    assert manifest["firstSequence"] == 1 and manifest["headHash"] == entries[-1]["hash"]
    assert end == {"type": "end", "count": len(entries)}
    assert [r["type"] for r in records[1:3]] == ["checkpoint", "checkpoint"]
    result = verify_export(lines(text))
    assert result.ok and result.checked == len(entries) and result.checkpoints_checked == 2


async def test_csv_export_verifies_too(api: Api) -> None:
    await history(api)
    text = await export_text(api, format="csv")
    assert text.startswith("#manifest,") and "\r\nsequence,occurredAt," in text
    result = verify_export(lines(text))
    assert result.ok, result.render()


async def test_filtered_export_is_partial_and_verifies(api: Api) -> None:
    await history(api)
    user = await api.enabled_user()
    text = await export_text(api, userId=user["id"], action="RESET")
    manifest = json.loads(text.splitlines()[0])
    assert manifest["partial"] is True and manifest["count"] == 3
    assert manifest["filter"]["action"] == "RESET"
    result = verify_export(lines(text))
    assert result.ok and result.partial and result.checked == 3


async def test_a_cut_off_or_edited_file_is_refused(api: Api) -> None:
    await history(api)
    text = await export_text(api)
    cut = verify_export(lines(text)[:-3])
    assert not cut.ok and "cut off" in (cut.reason or "")
    edited = text.replace('"reason":"r2"', '"reason":"r9"')
    result = verify_export(lines(edited))
    assert not result.ok and "edited" in (result.reason or "")


@pytest.mark.parametrize(
    ("token", "params", "status"),
    [("helpdesk", {}, 403), (None, {}, 401), ("auditor", {"format": "xml"}, 400),
     ("auditor", {"userId": '{"$ne": null}'}, 400), ("auditor", {"from": "yesterday"}, 400),
     ("auditor", {"action": "DROP"}, 400), ("auditor", {"sneaky": "1"}, 400),
     ("auditor", {"access_token": "x"}, 401)],
)  # fmt: skip
async def test_export_refusals(
    api: Api, token: str | None, params: dict[str, str], status: int
) -> None:
    headers = {"Authorization": f"Bearer {TOKENS[token]}"} if token else {}
    response = await api.client.get("/audit/export", params=params, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] in (
        "FORBIDDEN", "UNAUTHENTICATED", "BAD_REQUEST")  # fmt: skip


async def test_no_token_or_pin_appears_in_entries_exports_or_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await history(api)
        exported = await export_text(api) + await export_text(api, format="csv")
    database = api.services.database
    stored = ""
    for name in ("audit_events", "notifications", "audit_access_log", "users"):
        stored += json.dumps(await database.get_collection(name).find({}).to_list(None),
                             default=str)  # fmt: skip
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for haystack in (stored, exported, logs):
        for token in TOKENS.values():
            assert token not in haystack
        assert " pin " not in haystack.lower() and "pin:" not in haystack.lower()


async def test_the_offline_tool(api: Api, tmp_path: Path) -> None:
    await history(api)
    good = tmp_path / "trail.jsonl"
    good.write_text(await export_text(api))
    pem = tmp_path / "confid.pem"
    pem.write_text((await api.client.get("/audit/public-key")).text)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text().replace('"reason":"r3"', '"reason":"r8"'))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.audit", "verify", *args],
                              cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip

    ok = run(str(good), "--public-key", str(pem))
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    invalid = run(str(bad), "--public-key", str(pem))
    assert invalid.returncode == 1 and "INVALID at sequence" in invalid.stdout
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    other_key = tmp_path / "other.pem"
    subprocess.run([sys.executable, "-m", "app.audit", "keygen", "--out",
                    str(tmp_path / "k.pem")], cwd=ROOT, capture_output=True, check=True,
                   text=True)  # fmt: skip
    from app.domain.signing import Signer, public_pem

    other_key.write_text(public_pem(Signer.from_pem((tmp_path / "k.pem").read_bytes()).public))
    foreign = run(str(good), "--public-key", str(other_key))
    assert foreign.returncode == 1 and "not signed by confid's key" in foreign.stdout


async def test_csv_survives_awkward_text(api: Api) -> None:
    user = await api.enabled_user()
    for reason in ["a\n\nb", "x\n# y", "a\rb", 'comma, "quote"; semicolon', "ünï ✓"]:
        await api.data(
            operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": reason}}
        )
    await api.data(
        operation("SendConferenceInfo"),
        {"input": {"userId": user["id"], "toAddress": "a;b@example.com"}},
    )
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": ""}}
    )
    text = await export_text(api, format="csv")
    result = verify_export(lines(text))
    assert result.ok, result.render()
    json_result = verify_export(lines(await export_text(api)))
    assert json_result.ok and json_result.checked == result.checked


async def test_a_mangled_csv_row_is_reported_not_a_crash(api: Api) -> None:
    await history(api)
    rows = lines(await export_text(api, format="csv"))
    rows[5] = "garbage,row\n"
    result = verify_export(rows)
    assert not result.ok and result.first_invalid_sequence is not None


FORMULAS = ['=HYPERLINK("http://x","y")', "+SUM(1)", "-2+3", "@SUM(1)", "\tindented", "'quoted"]


async def test_csv_cells_never_start_a_spreadsheet_formula(api: Api) -> None:
    """Issue 9, row 4: what a token holder writes must not run when an auditor opens the
    CSV in a spreadsheet, and the file must still verify to the exact hashed bytes."""
    import csv

    from app.api.ids import encode_id

    user = await api.enabled_user()
    for reason in FORMULAS:
        response = await api.post(
            {
                "query": operation("ResetConferenceId"),
                "variables": {"input": {"userId": user["id"], "reason": reason}},
            },
            headers={"User-Agent": "=1+1+cmd|' /C calc'!A0"},
        )
        assert response.json()["data"]["resetConferenceId"]["userErrors"] == []
    refused = await api.data(
        "mutation($input: ResetConferenceIdInput!) { resetConferenceId(input: $input) "
        "{ auditEvent { userRef } } }",
        {"input": {"userId": encode_id("User", "@SUM(1)")}},
    )
    assert refused["resetConferenceId"]["auditEvent"]["userRef"] == "@SUM(1)"
    text = await export_text(api, format="csv")
    rows = [row for row in csv.reader(lines(text)) if row and not row[0].startswith("#")]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    result = verify_export(lines(text))
    assert result.ok, result.render()
    # The values come back exactly: read the CSV and the JSON export side by side.
    from app.domain.export import read_export

    from_csv = [v[1] for k, v in read_export(lines(text)) if k == "entry"]
    from_json = [v[1] for k, v in read_export(lines(await export_text(api))) if k == "entry"]
    assert from_csv == from_json
    assert {e.reason for e in from_csv} >= set(FORMULAS)
    assert {e.user_agent for e in from_csv} >= {"=1+1+cmd|' /C calc'!A0"}


async def test_control_characters_in_a_reason_are_refused(api: Api) -> None:
    user = await api.enabled_user()
    for reason in ["bell\x07", "esc\x1b[2J", "nul\x00"]:
        data = await api.data(
            operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": reason}}
        )
        payload = data["resetConferenceId"]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_CHARACTERS"]
        assert payload["userErrors"][0]["field"] == ["input", "reason"]
        assert payload["auditEvent"]["outcome"] == "REJECTED"


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
    (read,) = [v[1] for k, v in read_export(lines(text)) if k == "entry"]
    assert read == entry
    assert verify_export(lines(text)).ok

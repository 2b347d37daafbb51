"""GET /audit/export (app.api.export): manifests, filters and both formats, verified
offline; refusals; no secret in what is stored, exported or logged; CSV that survives
awkward text and never starts a spreadsheet formula; what an export costs and how many run
at once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import replace
from typing import Any

import pytest

from app.api.export import AuditExport
from app.audit.verify import verify_export
from app.domain.export_seal import SIGNED_MANIFEST_MEMBERS
from app.domain.signing import key_id, load_public_pem, verify
from app.settings import RateLimit, Settings
from tests.support.api import TOKENS, Api, error_code, make_api, operation
from tests.support.audit import ExportFile, export_text, history, split_lines
from tests.support.database import Hold, WrappedDatabase


async def test_full_export_has_a_manifest_and_verifies(api: Api) -> None:
    await history(api)
    await api.data(operation("CreateAuditCheckpoint"))
    text = await export_text(api)
    records = [json.loads(line) for line in text.splitlines()]
    manifest, end = records[0], records[-1]
    entries = [r for r in records if r["type"] == "entry"]
    assert manifest["type"] == "manifest" and manifest["partial"] is False
    assert manifest["format"] == "confid-audit-export/4"
    assert manifest["count"] == len(entries) == manifest["lastSequence"] == manifest["headSequence"]
    assert manifest["firstSequence"] == 1 and manifest["headHash"] == entries[-1]["hash"]
    assert set(end) == {"type", "count", "seal", "signature"} and end["count"] == len(entries)
    assert [r["type"] for r in records[1:3]] == ["checkpoint", "checkpoint"]
    result = verify_export(split_lines(text))
    assert result.ok and result.checked == len(entries) and result.checkpoints_checked == 2
    assert result.sealed


async def test_the_seal_signs_what_the_file_holds(api: Api) -> None:
    """The end record's seal: the manifest's members, the last hash and the digest of the
    entries written, signed with the audit signing key over its canonical JSON."""
    await history(api)
    user = await api.enabled_user()
    key = load_public_pem((await api.client.get("/audit/public-key")).text)
    for params in ({}, {"format": "csv"}, {"userId": user["id"]}):
        text = await export_text(api, **params)
        file = ExportFile.parse(text)
        seal = file.end["seal"]
        assert seal["type"] == "confid-audit-export-seal"
        assert {k: seal[k] for k in SIGNED_MANIFEST_MEMBERS} == {
            k: file.manifest[k] for k in SIGNED_MANIFEST_MEMBERS
        }
        assert seal["encoding"] == params.get("format", "jsonl")
        assert seal["partial"] is ("userId" in params) and seal["count"] == len(file.entries)
        assert seal["lastSequence"] == file.entries[-1][0]
        assert seal["lastHash"] == file.entries[-1][1]
        digest = hashlib.sha256("".join(h + "\n" for _, h, _ in file.entries).encode())
        assert seal["entriesDigest"] == digest.hexdigest()
        assert seal["keyId"] == key_id(key)
        message = json.dumps(seal, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert verify(key, file.end["signature"], message.encode("utf-8"))


async def test_without_a_signing_key_the_seal_is_unsigned(
    settings: Settings, raw_database: Any
) -> None:
    """A confid that signs nothing still states what the file holds; the verifier, with
    no key to check it by, says the export is unsigned."""
    unsigned = replace(settings, mongodb_url="mongodb://not-used", signing_key_file=None)
    api = await make_api(unsigned, raw_database)  # not embedded, no key: nothing is signed
    try:
        await history(api, changes=2)
        text = await export_text(api)
    finally:
        await api.client.aclose()
    end = json.loads(text.splitlines()[-1])
    assert end["signature"] is None and end["seal"]["keyId"] is None
    result = verify_export(split_lines(text))
    assert result.ok and not result.sealed
    assert result.warnings == ["the export is unsigned: only the hash chain can be checked"]
    cut = verify_export(ExportFile.parse(text).cut().lines())
    assert not cut.ok and "is missing: the export's seal says" in (cut.reason or "")


async def test_csv_export_verifies_too(api: Api) -> None:
    await history(api)
    text = await export_text(api, format="csv")
    assert text.startswith("#manifest,") and "\r\nsequence,occurredAt," in text
    result = verify_export(split_lines(text))
    assert result.ok, result.render()


async def test_filtered_export_is_partial_and_verifies(api: Api) -> None:
    await history(api)
    user = await api.enabled_user()
    text = await export_text(api, userId=user["id"], action="RESET")
    manifest = json.loads(text.splitlines()[0])
    assert manifest["partial"] is True and manifest["count"] == 3
    assert manifest["filter"]["action"] == "RESET"
    result = verify_export(split_lines(text))
    assert result.ok and result.partial and result.checked == 3


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
    result = verify_export(split_lines(text))
    assert result.ok, result.render()
    json_result = verify_export(split_lines(await export_text(api)))
    assert json_result.ok and json_result.checked == result.checked


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
    rows = [row for row in csv.reader(split_lines(text)) if row and not row[0].startswith("#")]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    result = verify_export(split_lines(text))
    assert result.ok, result.render()
    # The values come back exactly: read the CSV and the JSON export side by side.
    from app.domain.export import read_export

    from_csv = [v[1] for k, v in read_export(split_lines(text)) if k == "entry"]
    from_json = [v[1] for k, v in read_export(split_lines(await export_text(api))) if k == "entry"]
    assert from_csv == from_json
    assert {e.reason for e in from_csv} >= set(FORMULAS)
    assert {e.user_agent for e in from_csv} >= {"=1+1+cmd|' /C calc'!A0"}


async def test_out_of_range_export_times_and_cursors(api: Api) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    for params in ({"from": "9999-12-31T23:00:00-05:00"}, {"to": "0001-01-01T00:00:00+01:00"}):
        response = await api.client.get("/audit/export", params=params, headers=headers)
        assert response.status_code == 400
    from app.api.pagination import encode_cursor

    for key in (10**30, 0, -5):
        body = await api.gql(operation("ListAuditEvents"), {"after": encode_cursor("audit", [key])})
        assert error_code(body) == "BAD_REQUEST"


def _exporter(api: Api) -> AuditExport:
    route = next(r for r in api.app.routes if getattr(r, "path", None) == "/audit/export")
    exporter: AuditExport = route.endpoint.__self__  # type: ignore[attr-defined]
    return exporter


async def _export(api: Api) -> Any:
    return await api.client.get(
        "/audit/export", headers={"Authorization": f"Bearer {TOKENS['auditor']}"}
    )


async def test_an_export_costs_points_like_a_verification(
    settings: Settings, raw_database: Any
) -> None:
    """10 points plus 1 per 10 entries of the trail, from the caller's bucket: with 15
    points and no refill, one export runs and the next gets 429 THROTTLED."""
    api = await make_api(replace(settings, rate_limit_auditor=RateLimit(15, 0.001)), raw_database)
    try:
        assert (await _export(api)).status_code == 200
        refused = await _export(api)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        body = refused.json()
        assert (
            error_code(body) == "THROTTLED"
            and "export of this trail costs" in (body["errors"][0]["message"])
        )
        admin = await _export_as(api, "admin")  # another caller has its own bucket
        assert admin.status_code == 200
    finally:
        await api.client.aclose()


async def _export_as(api: Api, token: str) -> Any:
    return await api.client.get(
        "/audit/export", headers={"Authorization": f"Bearer {TOKENS[token]}"}
    )


async def test_at_most_a_few_exports_run_at_once(settings: Settings, raw_database: Any) -> None:
    """An export's work is in its answer, which the limit on requests in progress does not
    count: exports are counted apart (here 2), and a third waits for neither: 503."""
    hold = Hold("audit_events")  # pricing reads the trail's length first: it waits there
    api = await make_api(settings, WrappedDatabase(raw_database, hold=hold))
    _exporter(api).exports.limit = 2
    try:
        hold.close()
        running = [asyncio.ensure_future(_export(api)) for _ in range(2)]
        for _ in range(1000):
            if hold.waiting >= 1 and _exporter(api).exports.in_progress == 2:
                break
            await asyncio.sleep(0.005)
        assert _exporter(api).exports.in_progress == 2
        busy = await asyncio.wait_for(_export(api), 10)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert "2 audit exports are in progress" in busy.json()["errors"][0]["message"]
        hold.release()
        for done in await asyncio.gather(*running):
            assert done.status_code == 200
        assert _exporter(api).exports.in_progress == 0  # every place given back
        assert (await _export(api)).status_code == 200
    finally:
        hold.release()
        await api.client.aclose()

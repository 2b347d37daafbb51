"""The audit trail for auditors (app.api.trail): paging, filters and totals, per-user
history, emails, the signing key, evidence packs; and the person an OpenID Connect token
names, in the trail, its filters, the access log, the evidence and the export."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.api import ROOT, Api, operation
from tests.support.audit import export_text, history, make_history, online
from tests.support.idp import Provider


async def test_filters_combine_and_total_count(api: Api) -> None:
    await history(api)
    user = await api.enabled_user()
    data = await api.data(
        operation("ListAuditEvents"),
        {"userId": user["id"], "action": "RESET", "outcome": "SUCCESS", "actor": "admin-1",
         "first": 2},
    )  # fmt: skip
    page = data["auditEvents"]
    assert page["totalCount"] == 3 and len(page["edges"]) == 2
    nodes = [e["node"] for e in page["edges"]]
    assert all(n["action"] == "RESET" and n["actor"]["name"] == "admin-1" for n in nodes)
    assert all(n["user"]["id"] == user["id"] for n in nodes)
    window = await api.data(
        operation("ListAuditEvents"),
        {"from": nodes[-1]["occurredAt"], "to": "2999-01-01T00:00:00Z", "action": "RESET"},
    )
    assert nodes[-1]["sequence"] in [e["node"]["sequence"] for e in window["auditEvents"]["edges"]]


async def test_paging_while_entries_arrive_skips_and_repeats_nothing(api: Api) -> None:
    await history(api)
    seen: list[int] = []
    after = None
    while True:
        data = await api.data(operation("ListAuditEvents"), {"first": 5, "after": after})
        page = data["auditEvents"]
        seen += [e["node"]["sequence"] for e in page["edges"]]
        await history(api, changes=1)  # new entries keep arriving between pages
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(range(seen[0], 0, -1))


async def test_conference_id_history(api: Api) -> None:
    await history(api)
    user = await api.enabled_user()
    data = await api.data(operation("ConferenceIdHistory"), {"id": user["id"]}, "auditor")
    connection = data["user"]["conferenceIdHistory"]
    nodes = [e["node"] for e in connection["edges"]]
    assert [n["action"] for n in nodes] == ["RESET"] * 3 + ["ASSIGN"]
    assert connection["totalCount"] == 4
    assert nodes[0]["newConferenceId"] == data["user"]["audioConferencing"]["conferenceId"]
    assert nodes[0]["reason"] == "r4" and nodes[-1]["actor"]["role"] == "SYSTEM"
    for newer, older in itertools.pairwise(nodes):
        assert newer["previousConferenceId"] == older["newConferenceId"]


async def test_the_signing_key_is_published(api: Api) -> None:
    data = await api.data(operation("AuditSigningKey"), token="helpdesk")
    key = data["auditSigningKey"]
    assert key["algorithm"] == "Ed25519" and key["publicKeyPem"].startswith("-----BEGIN")
    response = await api.client.get("/audit/public-key")
    assert response.text == key["publicKeyPem"] and response.headers["X-Key-Id"] == key["keyId"]
    events = await api.data(operation("ListAuditEvents"), {"first": 1})
    (entry,) = [e["node"] for e in events["auditEvents"]["edges"]]
    assert entry["keyId"] == key["keyId"] and entry["signature"]


async def test_evidence_pack(api: Api) -> None:
    await history(api)
    user = await api.enabled_user()
    data = await api.data(operation("UserEvidence"), {"userId": user["id"]}, "auditor")
    pack: dict[str, Any] = data["userEvidence"]
    assert pack["currentConferenceId"] == user["audioConferencing"]["conferenceId"]
    actions = [e["event"]["action"] for e in pack["entries"]]
    assert actions == ["ASSIGN", "RESET", "RESET", "RESET", "SET", "SEND_INFO"]
    assert pack["entries"][4]["event"]["outcome"] == "REJECTED"
    assert all(e["verified"] for e in pack["entries"]) and pack["allEntriesVerified"]
    assert {n["kind"] for n in pack["notifications"]} == {"CONFERENCE_ID_CHANGED",
                                                          "CONFERENCE_INFO"}  # fmt: skip
    assert pack["chain"]["ok"] is True and pack["truncated"] is False

    events = api.services.database.get_collection("audit_events")
    sequence = pack["entries"][2]["event"]["sequence"]
    await events.update_one({"_id": sequence}, {"$set": {"reason": "edited"}})
    data = await api.data(operation("UserEvidence"), {"userId": user["id"]}, "auditor")
    pack = data["userEvidence"]
    assert pack["allEntriesVerified"] is False
    assert pack["entries"][2]["problem"] == "its contents do not match its hash"
    assert pack["chain"]["firstInvalidSequence"] == sequence


async def test_evidence_for_an_unknown_user_is_null(api: Api) -> None:
    from app.api.ids import encode_id

    data = await api.data(operation("UserEvidence"), {"userId": encode_id("User", "x")}, "auditor")
    assert data["userEvidence"] is None


async def test_trail_is_gapless_and_verifies(api: Api) -> None:
    await make_history(api)
    seen: list[int] = []
    after = None
    while True:
        data = await api.data(operation("ListAuditEvents"), {"first": 4, "after": after})
        page = data["auditEvents"]
        seen += [e["node"]["sequence"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(range(len(seen), 0, -1))
    result = await online(api)
    assert result["ok"] is True and result["checked"] == len(seen)
    assert len(result["headHash"]) == 64


async def test_cursors_stay_stable_while_entries_arrive(api: Api) -> None:
    first = await api.data(operation("ListAuditEvents"), {"first": 3})
    cursor = first["auditEvents"]["pageInfo"]["endCursor"]
    last_seen = first["auditEvents"]["edges"][-1]["node"]["sequence"]
    await make_history(api, resets=2)
    second = await api.data(operation("ListAuditEvents"), {"first": 3, "after": cursor})
    assert second["auditEvents"]["edges"][0]["node"]["sequence"] == last_seen - 1


async def test_notifications_newest_first_and_filtered(api: Api) -> None:
    await make_history(api, resets=3)
    data = await api.data(
        operation("ListNotifications"), {"kind": "CONFERENCE_ID_CHANGED", "first": 2}
    )
    nodes = [e["node"] for e in data["notifications"]["edges"]]
    assert len(nodes) == 2 and all(n["kind"] == "CONFERENCE_ID_CHANGED" for n in nodes)
    sequences = [n["auditEvent"]["sequence"] for n in nodes]
    assert sequences == sorted(sequences, reverse=True)
    assert data["notifications"]["pageInfo"]["hasNextPage"] is True


ACTOR_FIELDS = "actor { name role issuer subject displayName }"


STATIC_ADMIN = {
    "name": "admin-1",
    "role": "ADMIN",
    "issuer": None,
    "subject": None,
    "displayName": None,
}


def alice(idp: Provider) -> dict[str, Any]:
    return {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }


async def events(api: Api, token: str = "auditor", **filters: Any) -> list[dict[str, Any]]:
    data = await api.data(operation("ListAuditEvents"), {"first": 50, **filters}, token=token)
    return [edge["node"] for edge in data["auditEvents"]["edges"]]


async def reset_as(api: Api, token: str, user_id: str) -> dict[str, Any]:
    query = (
        "mutation R($input: ResetConferenceIdInput!) { resetConferenceId(input: $input) {"
        f" auditEvent {{ sequence {ACTOR_FIELDS} }} userErrors {{ code }} }} }}"
    )
    data = await api.data(query, {"input": {"userId": user_id, "reason": "ticket 77"}}, token)
    payload: dict[str, Any] = data["resetConferenceId"]
    assert payload["userErrors"] == []
    return payload


async def test_a_change_made_by_a_person_names_them_and_verifies_online_and_offline(
    oidc_api: Api, idp: Provider, tokens: dict[str, str], tmp_path: Path
) -> None:
    user = await oidc_api.enabled_user()
    by_person = await reset_as(oidc_api, tokens["alice"], user["id"])
    by_token = await reset_as(oidc_api, "admin", user["id"])
    assert by_person["auditEvent"]["actor"] == alice(idp)
    assert by_token["auditEvent"]["actor"] == STATIC_ADMIN  # static tokens: as before

    # Online: the whole chain verifies, read by a person (the auditor audrey).
    verdict = await oidc_api.data(operation("VerifyAuditTrail"), token=tokens["audrey"])
    assert verdict["verifyAuditTrail"]["ok"] is True, verdict

    # Offline: the export carries the person and verifies with `python -m app.audit`.
    pem = tmp_path / "confid.pem"
    pem.write_text((await oidc_api.client.get("/audit/public-key")).text)

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.audit", "verify", str(path), "--public-key", str(pem)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip

    for fmt in ("jsonl", "csv"):
        text = await export_text(oidc_api, format=fmt)
        path = tmp_path / f"trail.{fmt}"
        path.write_text(text, encoding="utf-8", newline="")
        run = verify(path)
        assert run.returncode == 0 and run.stdout.startswith("OK:"), run.stdout + run.stderr
    records = [json.loads(line) for line in (tmp_path / "trail.jsonl").read_text().splitlines()]
    assert records[0]["format"] == "confid-audit-export/4" and "seal" in records[-1]
    sequence = by_person["auditEvent"]["sequence"]
    (entry,) = [r for r in records if r["type"] == "entry" and r["sequence"] == sequence]
    assert entry["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }
    with (tmp_path / "trail.csv").open(encoding="utf-8", newline="") as file:
        table = [r for r in csv.reader(file) if r and not r[0].startswith("#")]
    rows = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    (row,) = [r for r in rows if r.get("sequence") == str(sequence)]
    assert (row["actorName"], row["actorIssuer"], row["actorSubject"]) == (
        "alice@example.test", idp.issuer, "alice"
    )  # fmt: skip
    assert row["actorDisplayName"] == "Alice Admin"

    # An edited identity is caught by both verifiers.
    edited = (tmp_path / "trail.jsonl").read_text().replace('"subject":"alice"', '"subject":"eve"')
    (tmp_path / "edited.jsonl").write_text(edited)
    run = verify(tmp_path / "edited.jsonl")
    assert run.returncode == 1 and f"INVALID at sequence {sequence}" in run.stdout, run.stdout


async def test_the_filters_find_the_person_by_username_or_subject(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    user = await oidc_api.enabled_user()
    await reset_as(oidc_api, tokens["alice"], user["id"])
    await reset_as(oidc_api, tokens["hugo"], user["id"])
    await reset_as(oidc_api, "admin", user["id"])

    by_name = await events(oidc_api, actor="alice@example.test")
    assert [e["actor"] for e in by_name] == [alice(idp)]
    by_subject = await events(oidc_api, actorSubject="alice")
    assert [e["actor"] for e in by_subject] == [alice(idp)]
    assert [e["actor"]["name"] for e in await events(oidc_api, actorSubject="hugo")] == [
        "hugo@example.test"
    ]
    assert await events(oidc_api, actorSubject="admin-1") == []  # a token name is no subject
    assert [e["actor"] for e in await events(oidc_api, actor="admin-1")] == [STATIC_ADMIN]
    too_long = await oidc_api.gql(operation("ListAuditEvents"), {"actorSubject": "s" * 256},
                                  token="auditor")  # fmt: skip
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    exported = await export_text(oidc_api, actorSubject="alice")
    lines = [json.loads(line) for line in exported.splitlines()]
    assert lines[0]["filter"] == {"actorSubject": "alice"} and lines[0]["count"] == 1


async def test_the_access_log_and_the_evidence_pack_name_the_person(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    user = await oidc_api.enabled_user()
    await reset_as(oidc_api, tokens["alice"], user["id"])
    evidence = await oidc_api.data(
        operation("UserEvidence"), {"userId": user["id"]}, token=tokens["audrey"]
    )
    pack = evidence["userEvidence"]
    assert pack["allEntriesVerified"] is True
    assert pack["entries"][-1]["event"]["actor"] == alice(idp)

    log = await oidc_api.data(operation("AuditAccessLog"), {"first": 5}, token="auditor")
    readers = [edge["node"] for edge in log["auditAccessLog"]["edges"]]
    evidence_read = next(r for r in readers if r["what"] == "userEvidence")
    assert evidence_read["actor"] == {
        "name": "audrey@example.test",
        "role": "AUDITOR",
        "issuer": idp.issuer,
        "subject": "audrey",
        "displayName": None,
    }

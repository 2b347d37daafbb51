"""Auditors' reads: filters and totals, per-user history, the access log, checkpoints,
the signing key and evidence packs."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.api import Api, operation
from tests.support.audit import export_text, history


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


async def test_every_read_and_export_is_in_the_access_log(api: Api) -> None:
    await api.data(operation("ListAuditEvents"), {"action": "SET"}, "auditor")
    await api.data(operation("VerifyAuditTrail"), token="auditor")
    await export_text(api, format="csv", action="RESET")
    data = await api.data(operation("AuditAccessLog"), {"actor": "auditor-1"}, "auditor")
    records = [e["node"] for e in data["auditAccessLog"]["edges"]]
    assert [r["what"] for r in records] == ["export", "verifyAuditTrail", "auditEvents"]
    assert "action=RESET" in records[0]["filters"] and "format=csv" in records[0]["filters"]
    assert records[2]["filters"] == ["action=SET"]
    assert all(r["sourceIp"] == "203.0.113.7" and r["requestId"] for r in records)


async def test_reads_do_not_touch_the_change_chain(api: Api) -> None:
    before = (await api.data(operation("VerifyAuditTrail"), token="auditor"))["verifyAuditTrail"]
    for _ in range(3):
        await api.data(operation("ListAuditEvents"), token="auditor")
    after = (await api.data(operation("VerifyAuditTrail"), token="auditor"))["verifyAuditTrail"]
    assert after["checked"] == before["checked"] and after["headHash"] == before["headHash"]


async def test_checkpoints_are_written_even_when_nothing_changed(api: Api) -> None:
    first = await api.data(operation("CreateAuditCheckpoint"))
    second = await api.data(operation("CreateAuditCheckpoint"))
    a = first["createAuditCheckpoint"]["checkpoint"]
    b = second["createAuditCheckpoint"]["checkpoint"]
    assert (a["sequence"], a["hash"]) == (b["sequence"], b["hash"])
    assert b["signedAt"] >= a["signedAt"] and a["signature"] != ""
    listed = await api.data(operation("AuditCheckpoints"), {"first": 10}, "auditor")
    assert len(listed["auditCheckpoints"]["edges"]) == 3  # plus the one made at start-up
    result = (await api.data(operation("VerifyAuditTrail"), token="auditor"))["verifyAuditTrail"]
    assert result["ok"] and result["checkpointsChecked"] == 3


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


ACCESS = """query($actor: String) { auditAccessLog(actor: $actor, first: 100) {
    edges { node { what filters } } } }"""


async def access_records(api: Api) -> list[dict[str, Any]]:
    data = await api.data(ACCESS, {"actor": "auditor-1"}, "auditor")
    return [e["node"] for e in data["auditAccessLog"]["edges"]]


async def test_each_request_that_reads_the_trail_writes_one_record(api: Api) -> None:
    """A nested history over every user is one read of the trail, not one per user."""
    nested = """{ users(first: 12) { edges { node {
        latestAuditEvent { sequence }
        conferenceIdHistory(first: 5) { edges { node { sequence } } } } } } }"""
    await api.data(nested, token="auditor")
    (record,) = await access_records(api)
    assert record["what"] == "conferenceIdHistory, latestAuditEvent"
    filters = dict(f.split("=", 1) for f in record["filters"])
    assert filters["conferenceIdHistory.times"] == filters["latestAuditEvent.times"] == "12"
    assert len(filters["conferenceIdHistory.userId"].split(", ")) == 12


async def test_reads_by_node_checkpoints_and_the_access_log_are_recorded(api: Api) -> None:
    from app.api.ids import encode_id

    await api.data(operation("Node"), {"id": encode_id("AuditEvent", 3)}, "auditor")
    await api.data(operation("AuditCheckpoints"), {"first": 5}, "auditor")
    await api.data(ACCESS, {"actor": "nobody"}, "auditor")
    records = await access_records(api)
    assert [r["what"] for r in records] == ["auditAccessLog", "auditCheckpoints", "node"]
    assert records[0]["filters"] == ["actor=nobody"]
    assert records[2]["filters"] == ["AuditEvent=3"]

"""Audit reads (app.api.reads): every request that reads audit data writes ONE access-log
record naming what it resolved (reads by node, checkpoints and the access log included),
and reads never touch the change chain."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api, operation
from tests.support.audit import export_text


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

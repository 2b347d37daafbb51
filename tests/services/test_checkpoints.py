"""Signed checkpoints (app.services.checkpoints)."""

from __future__ import annotations

from app.domain.chain import entry_hash
from app.store import codec
from tests.support.api import Api, operation
from tests.support.audit import checkpoint, history, online, trail_head


async def test_no_checkpoint_is_signed_over_a_forged_entry(api: Api) -> None:
    """Otherwise the checkpoint would vouch for the forgery and fast verification, which
    checks no signature a checkpoint covers, would never see it."""
    await history(api)
    events = api.services.database.get_collection("audit_events")
    total = await trail_head(api)
    last = codec.audit_from(await events.find_one({"_id": total}))
    fields = {name: getattr(last, name) for name in last.__slots__}
    fields.update(
        sequence=total + 1, previous_hash=last.hash, reason="forged", operation_id="op_forged",
        hash="", signature=None,
    )  # fmt: skip
    forged = last.__class__(**fields)
    forged = last.__class__(**{**fields, "hash": entry_hash(forged)})
    await events.insert_one(codec.audit_doc(forged))
    checkpoints = api.services.database.get_collection("audit_checkpoints")
    before = await checkpoints.count_documents({})

    refused = await checkpoint(api)
    assert refused["checkpoint"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["TRAIL_INVALID"]
    assert f"sequence {total + 1}" in refused["userErrors"][0]["message"]
    assert await checkpoints.count_documents({}) == before
    assert await api.services.audit.checkpoints.create() is None  # the periodic job too

    found = await online(api)
    assert found["ok"] is False and found["firstInvalidSequence"] == total + 1
    assert "not signed" in found["reason"]


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

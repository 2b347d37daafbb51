"""`verifyAuditTrail` over the API: what it checked, `fromCheckpoint`, `everySignature`, and
the rule that makes skipping signatures sound: no checkpoint is signed over a bad entry."""

from __future__ import annotations

from typing import Any

from app.domain.chain import entry_hash
from app.store import codec
from tests.support.api import Api, operation
from tests.support.audit import history


async def verify(api: Api, **variables: Any) -> dict[str, Any]:
    data = await api.data(operation("VerifyAuditTrail"), variables, token="auditor")
    result: dict[str, Any] = data["verifyAuditTrail"]
    return result


async def checkpoint(api: Api) -> dict[str, Any]:
    data = await api.data(operation("CreateAuditCheckpoint"))
    payload: dict[str, Any] = data["createAuditCheckpoint"]
    return payload


async def head(api: Api) -> int:
    return int(await api.services.database.get_collection("audit_events").count_documents({}))


async def test_signatures_are_checked_only_after_the_newest_checkpoint(api: Api) -> None:
    await history(api)
    signed = (await checkpoint(api))["checkpoint"]["sequence"]
    await history(api, changes=3)
    total = await head(api)
    fast = await verify(api)
    assert fast["ok"] is True and fast["checked"] == total
    assert fast["signaturesChecked"] == total - signed
    every = await verify(api, everySignature=True)
    assert every["ok"] is True and every["signaturesChecked"] == total
    assert every["headHash"] == fast["headHash"]


async def test_from_a_checkpoint_only_what_followed_it_is_verified(api: Api) -> None:
    await history(api)
    signed = (await checkpoint(api))["checkpoint"]["sequence"]
    await history(api, changes=2)
    total = await head(api)
    since = await verify(api, fromCheckpoint=signed)
    assert since["ok"] is True and since["checked"] == total - signed
    assert since["headHash"] == (await verify(api))["headHash"]

    events = api.services.database.get_collection("audit_events")
    await events.update_one({"_id": 2}, {"$set": {"reason": "before the checkpoint"}})
    assert (await verify(api))["firstInvalidSequence"] == 2
    assert (await verify(api, fromCheckpoint=signed))["ok"] is True  # not its business

    await events.update_one({"_id": signed}, {"$set": {"reason": "the anchor itself"}})
    anchored = await verify(api, fromCheckpoint=signed)
    assert anchored["ok"] is False and anchored["firstInvalidSequence"] == signed

    log = await api.data(operation("AuditAccessLog"), {"first": 5}, "auditor")
    filters = [e["node"]["filters"] for e in log["auditAccessLog"]["edges"]]
    assert [f"fromCheckpoint={signed}"] in filters


async def test_from_a_sequence_without_a_checkpoint_is_a_bad_request(api: Api) -> None:
    await history(api)
    result = await api.gql(operation("VerifyAuditTrail"), {"fromCheckpoint": 3}, "auditor")
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "auditCheckpoints" in result["errors"][0]["message"]


async def test_no_checkpoint_is_signed_over_a_forged_entry(api: Api) -> None:
    """Otherwise the checkpoint would vouch for the forgery and fast verification, which
    checks no signature a checkpoint covers, would never see it."""
    await history(api)
    events = api.services.database.get_collection("audit_events")
    total = await head(api)
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

    found = await verify(api)
    assert found["ok"] is False and found["firstInvalidSequence"] == total + 1
    assert "not signed" in found["reason"]

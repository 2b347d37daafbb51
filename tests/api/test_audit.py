"""The audit trail through the API: paging, filters, verification and tamper detection."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api, operation


async def verify(api: Api) -> dict[str, Any]:
    data = await api.data(operation("VerifyAuditTrail"), token="auditor")
    result: dict[str, Any] = data["verifyAuditTrail"]
    return result


async def make_history(api: Api, resets: int = 4) -> None:
    user = await api.enabled_user()
    for _ in range(resets):
        await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "12"}}
    )


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
    result = await verify(api)
    assert result["ok"] is True and result["checked"] == len(seen)
    assert len(result["headHash"]) == 64


async def test_rejections_are_audited_with_their_codes(api: Api) -> None:
    await make_history(api)
    data = await api.data(operation("ListAuditEvents"), {"outcome": "REJECTED", "first": 10})
    (node,) = [e["node"] for e in data["auditEvents"]["edges"]]
    assert node["action"] == "SET" and node["errorCodes"] == ["WRONG_LENGTH"]
    assert node["newConferenceId"] == "12"


async def test_cursors_stay_stable_while_entries_arrive(api: Api) -> None:
    first = await api.data(operation("ListAuditEvents"), {"first": 3})
    cursor = first["auditEvents"]["pageInfo"]["endCursor"]
    last_seen = first["auditEvents"]["edges"][-1]["node"]["sequence"]
    await make_history(api, resets=2)
    second = await api.data(operation("ListAuditEvents"), {"first": 3, "after": cursor})
    assert second["auditEvents"]["edges"][0]["node"]["sequence"] == last_seen - 1


async def test_an_edited_entry_is_named(api: Api) -> None:
    await make_history(api)
    events = api.services.database.get_collection("audit_events")
    await events.update_one({"_id": 5}, {"$set": {"newConferenceId": "0000000"}})
    result = await verify(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 5
    assert "edited" in result["reason"]


async def test_a_deleted_entry_is_named(api: Api) -> None:
    await make_history(api)
    await api.services.database.get_collection("audit_events").delete_one({"_id": 7})
    result = await verify(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 7
    assert "missing" in result["reason"]


async def test_a_mangled_entry_is_named(api: Api) -> None:
    await make_history(api)
    events = api.services.database.get_collection("audit_events")
    await events.update_one({"_id": 3}, {"$unset": {"occurredAt": ""}})
    result = await verify(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 3


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

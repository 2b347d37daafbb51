"""Verifying the stored trail (app.services.verification), through `verifyAuditTrail`:
what it checked, `fromCheckpoint`, `everySignature`; edited, deleted and mangled entries
named; checkpoints and their limits; signing keys over a trail's life (rotation, signing
switched on for an old trail, an emptied signature)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.domain.signing import Signer, public_pem
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.audit import (
    checkpoint,
    history,
    make_history,
    offline,
    online,
    trail_head,
)


async def verify(api: Api, **variables: Any) -> dict[str, Any]:
    data = await api.data(operation("VerifyAuditTrail"), variables, token="auditor")
    result: dict[str, Any] = data["verifyAuditTrail"]
    return result


async def test_signatures_are_checked_only_after_the_newest_checkpoint(api: Api) -> None:
    await history(api)
    signed = (await checkpoint(api))["checkpoint"]["sequence"]
    await history(api, changes=3)
    total = await trail_head(api)
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
    total = await trail_head(api)
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


async def test_without_checkpoints_deleting_the_newest_is_not_detected(api: Api) -> None:
    """The documented limit: the chain alone cannot tell a shorter trail from a cut one."""
    await history(api)
    database = api.services.database
    await database.get_collection("audit_checkpoints").delete_many({})
    events = database.get_collection("audit_events")
    head = await events.count_documents({})
    await events.delete_many({"_id": {"$gt": head - 2}})
    assert (await online(api))["ok"] is True


async def test_a_forged_checkpoint_is_refused(api: Api) -> None:
    await history(api)
    checkpoints = api.services.database.get_collection("audit_checkpoints")
    await checkpoints.update_many({}, {"$set": {"sequence": 3}})
    result = await online(api)
    assert result["ok"] is False and "checkpoint" in result["reason"]


async def test_an_edited_entry_is_named(api: Api) -> None:
    await make_history(api)
    events = api.services.database.get_collection("audit_events")
    await events.update_one({"_id": 5}, {"$set": {"newConferenceId": "0000000"}})
    result = await online(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 5
    assert "edited" in result["reason"]


async def test_a_deleted_entry_is_named(api: Api) -> None:
    await make_history(api)
    await api.services.database.get_collection("audit_events").delete_one({"_id": 7})
    result = await online(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 7
    assert "missing" in result["reason"]


async def test_a_mangled_entry_is_named(api: Api) -> None:
    await make_history(api)
    events = api.services.database.get_collection("audit_events")
    await events.update_one({"_id": 3}, {"$unset": {"occurredAt": ""}})
    result = await online(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == 3


def key_file(tmp_path: Path, name: str) -> tuple[Path, Signer]:
    signer = Signer.generate()
    path = tmp_path / name
    path.write_bytes(signer.private_pem())
    return path, signer


async def test_entries_signed_before_a_rotation_still_verify(
    settings: Settings, raw_database: Any, tmp_path: Path
) -> None:
    old_key, old = key_file(tmp_path, "old.pem")
    first = await make_api(replace(settings, signing_key_file=old_key), raw_database)
    await history(first)
    await first.client.aclose()

    new_key, _ = key_file(tmp_path, "new.pem")
    rotated = replace(settings, signing_key_file=new_key, seed_demo=False)
    forgetful = await make_api(rotated, raw_database)
    result = await online(forgetful)
    assert result["ok"] is False and result["firstInvalidSequence"] == 1  # old key unknown
    await forgetful.client.aclose()

    bundle = tmp_path / "previous.pem"
    bundle.write_text(public_pem(old.public))
    remembering = await make_api(replace(rotated, previous_public_keys_file=bundle), raw_database)
    await history(remembering, changes=2)  # signed with the new key
    assert (await online(remembering))["ok"] is True
    found = await offline(remembering)
    assert found.ok, found.render()
    await remembering.client.aclose()


async def test_signing_switched_on_for_an_existing_trail(
    settings: Settings, raw_database: Any, tmp_path: Path
) -> None:
    unsigned = replace(settings, mongodb_url="mongodb://not-used", signing_key_file=None)
    first = await make_api(unsigned, raw_database)  # no key: entries are unsigned
    await history(first)
    before = await raw_database.get_collection("audit_events").count_documents({})
    await first.client.aclose()

    key, _ = key_file(tmp_path, "key.pem")
    signing = replace(settings, signing_key_file=key, seed_demo=False)
    strict = await make_api(signing, raw_database)
    assert (await online(strict))["ok"] is False
    await strict.client.aclose()

    since = await make_api(replace(signing, signed_from_sequence=before + 1), raw_database)
    await history(since, changes=2)
    assert (await online(since))["ok"] is True
    assert (await offline(since)).ok
    await raw_database.get_collection("audit_events").update_one(
        {"_id": before + 2}, {"$unset": {"signature": ""}}
    )
    stripped = await online(since)
    assert stripped["ok"] is False and stripped["firstInvalidSequence"] == before + 2
    await since.client.aclose()


async def test_an_emptied_signature_is_a_forgery_to_every_verifier(
    settings: Settings, raw_database: Any
) -> None:
    """Before the audit entry had one definition, `verifyAuditTrail` called an entry whose
    signature was set to "" unsigned while `userEvidence` marked it verified."""
    api = await make_api(replace(settings, signed_from_sequence=100), raw_database)
    await history(api, changes=2)
    user = await api.enabled_user()
    events = raw_database.get_collection("audit_events")
    target = await events.find_one({"userId": api_user_id(user)}, sort=[("_id", -1)])
    await events.update_one({"_id": target["_id"]}, {"$set": {"signature": ""}})
    result = await online(api)
    assert result["ok"] is False and result["firstInvalidSequence"] == target["_id"]
    assert "not signed" in result["reason"]
    data = await api.data(operation("UserEvidence"), {"userId": user["id"]}, "auditor")
    pack = data["userEvidence"]
    (entry,) = [e for e in pack["entries"] if e["event"]["sequence"] == target["_id"]]
    assert entry["verified"] is False and "not signed" in entry["problem"]
    assert pack["allEntriesVerified"] is False
    assert not (await offline(api)).ok
    await api.client.aclose()


def api_user_id(user: dict[str, Any]) -> str:
    from app.api.ids import decode_id

    stored = decode_id(user["id"], "User")
    assert stored is not None
    return stored


async def test_a_long_scan_lets_other_requests_run_between_pages(api: Api) -> None:
    """Verification, export and evidence read the trail page by page; between two pages
    the event loop serves others (the embedded store answers without ever yielding, so
    without this a long trail held every other request for the whole scan)."""
    import asyncio

    from app.store.audit import AuditRepository

    await history(api)
    total = await trail_head(api)
    trail = AuditRepository(api.services.database)
    ticks = 0
    scanning = True

    async def other_request() -> None:
        nonlocal ticks
        while scanning:
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.ensure_future(other_request())
    await asyncio.sleep(0)
    ticks = 0
    seen = [stored.sequence async for stored in trail.ascending(page_size=2)]
    scanning = False
    await other
    assert seen == list(range(1, total + 1))
    assert ticks >= total // 2 - 1  # at least once between every two pages

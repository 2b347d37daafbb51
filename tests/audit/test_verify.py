"""Each way of tampering with `audit_events` is found, online and offline alike, at the
same first bad sequence and for the same reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.domain.chain import entry_hash
from app.store import codec
from tests.support.api import Api, operation
from tests.support.audit import history, offline, online

Tamper = Callable[[Any, int], Awaitable[int]]  # (collection, head) -> expected first bad


async def edit_field(events: Any, head: int) -> int:
    await events.update_one({"_id": 5}, {"$set": {"reason": "nothing to see"}})
    return 5


async def delete_entry(events: Any, head: int) -> int:
    await events.delete_one({"_id": 7})
    return 7


async def swap_neighbours(events: Any, head: int) -> int:
    a = await events.find_one({"_id": 6})
    b = await events.find_one({"_id": 7})
    await events.delete_many({"_id": {"$in": [6, 7]}})
    await events.insert_one({**b, "_id": 6})
    await events.insert_one({**a, "_id": 7})
    return 6


async def delete_newest(events: Any, head: int) -> int:
    await events.delete_many({"_id": {"$gt": head - 3}})
    return head - 2


async def rewrite_from(events: Any, head: int) -> int:
    """Change entry 4 and recompute every later hash and link, as a forger without the key."""
    previous = (await events.find_one({"_id": 3}))["hash"]
    for sequence in range(4, head + 1):
        doc = await events.find_one({"_id": sequence})
        entry = codec.audit_from(doc)
        if sequence == 4:
            entry = entry.__class__(**{**_fields(entry), "reason": "rewritten"})
        entry = entry.__class__(**{**_fields(entry), "previous_hash": previous, "hash": ""})
        digest = entry_hash(entry)
        await events.update_one(
            {"_id": sequence},
            {"$set": {"reason": entry.reason or "", "previousHash": previous, "hash": digest}},
        )
        previous = digest
    return 4


async def insert_forged(events: Any, head: int) -> int:
    """Append a well-formed entry with a correct hash but no valid signature."""
    last = codec.audit_from(await events.find_one({"_id": head}))
    forged = last.__class__(
        **{**_fields(last), "sequence": head + 1, "previous_hash": last.hash,
           "reason": "forged", "operation_id": "op_forged", "hash": "", "signature": None}
    )  # fmt: skip
    forged = forged.__class__(**{**_fields(forged), "hash": entry_hash(forged)})
    await events.insert_one(codec.audit_doc(forged))
    return head + 1


def _fields(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


CASES: dict[str, tuple[Tamper, str]] = {
    "edit a field of entry k": (edit_field, "edited"),
    "delete entry k": (delete_entry, "missing"),
    "swap k and k+1": (swap_neighbours, "missing or out of place"),
    "delete the newest entries": (delete_newest, "missing"),
    "rewrite from k with recomputed hashes": (rewrite_from, "not signed"),
    "insert a forged entry": (insert_forged, "not signed"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_online_and_offline_agree(api: Api, case: str) -> None:
    tamper, words = CASES[case]
    await history(api)
    await api.data(operation("CreateAuditCheckpoint"))  # a signed head covers the newest
    assert (await online(api))["ok"] is True
    events = api.services.database.get_collection("audit_events")
    head = await events.count_documents({})
    expected = await tamper(events, head)

    found_online = await online(api)
    found_offline = await offline(api)
    assert found_online["ok"] is False and found_offline.ok is False
    assert found_online["firstInvalidSequence"] == expected, found_online["reason"]
    assert found_offline.first_invalid_sequence == expected, found_offline.reason
    assert words in found_online["reason"] and words in (found_offline.reason or "")


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

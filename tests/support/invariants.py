"""Checks of the whole database that must hold after any change, crash or race."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.domain.verifier import ChainVerifier
from app.store import codec


async def assert_consistent(database: Any) -> None:
    """IDs, registry, audit trail and notification records agree."""
    users = await database.get_collection("users").find({}).to_list(None)
    registry = await database.get_collection("conference_ids").find({}).to_list(None)
    events = await database.get_collection("audit_events").find({}).sort("_id", 1).to_list(None)
    notes = await database.get_collection("notifications").find({}).to_list(None)

    assert [u["_id"] for u in users if "lock" in u] == [], "a change was left half-done"
    active = {(u["audio"]["bridgeId"], u["audio"]["conferenceId"]): u["_id"]
              for u in users if u.get("audio")}  # fmt: skip
    held = Counter((u["audio"]["bridgeId"], u["audio"]["conferenceId"]) for u in users
                   if u.get("audio"))  # fmt: skip
    assert all(n == 1 for n in held.values()), "an ID is held by two users"
    states = {(r["bridgeId"], r["conferenceId"]): r for r in registry}
    assert [r["_id"] for r in registry if r["state"] == "RESERVED"] == []
    for key, user_id in active.items():
        assert states[key]["state"] == "ACTIVE" and states[key]["userId"] == user_id
    for key, reg in states.items():
        if reg["state"] == "ACTIVE":
            assert active.get(key) == reg["userId"], f"registry says {key} is active"

    verifier = ChainVerifier()
    for doc in events:
        verifier.feed(codec.audit_from(doc))
    result = verifier.result()
    assert result.ok, result
    assert [e["_id"] for e in events] == list(range(1, len(events) + 1))
    # Every successful change or send has its email; a bulk reset's start and end have none.
    framing = {"BULK_RESET_STARTED", "BULK_RESET_FINISHED"}
    successes = {
        e["operationId"] for e in events if e["outcome"] == "SUCCESS" and e["action"] not in framing
    }
    assert {n["operationId"] for n in notes} == successes, "an email without its change"
    assert [n for n in notes if n["status"] == "PENDING"] == []

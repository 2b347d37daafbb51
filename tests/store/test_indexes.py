"""Indexes (app.store.indexes): each aggregate is answered from one covering index."""

from __future__ import annotations

from mongomock_motor import AsyncMongoMockClient


async def test_the_aggregates_have_their_covering_indexes() -> None:
    """On MongoDB each aggregate is answered from one index (see app.store.activity)."""
    from app.store.indexes import ensure_indexes

    database = AsyncMongoMockClient()["t"]
    await ensure_indexes(database)
    events = await database.get_collection("audit_events").index_information()
    assert events["activity"]["key"] == [
        ("occurredAt", 1), ("bridgeId", 1), ("action", 1), ("outcome", 1)
    ]  # fmt: skip
    notes = await database.get_collection("notifications").index_information()
    assert notes["stats_by_time"]["key"] == [("createdAt", 1), ("status", 1)]

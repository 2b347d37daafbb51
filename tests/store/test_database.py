"""The driver differences kept in app.store.database: `aggregate` on the embedded store runs
a leading `$match` (and `$project`) as a find, and the answers are mongomock's own
pipeline's, without copying the whole collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mongomock_motor import AsyncMongoMockClient

from app.domain.activity import Interval, plan_buckets
from app.store.activity import _bucket_offset
from app.store.database import aggregate

BASE = datetime(2026, 11, 2, tzinfo=UTC)


async def filled() -> Any:
    events = AsyncMongoMockClient()["t"].get_collection("audit_events")
    await events.insert_many(
        [
            {
                "_id": n,
                "occurredAt": BASE + timedelta(minutes=53 * n),
                "action": ("RESET", "SET", "ASSIGN")[n % 3],
                "outcome": "REJECTED" if n % 5 == 0 else "SUCCESS",
                "userId": f"u{n % 4}",
                "bridgeId": "default",
            }
            for n in range(1, 400)
        ]
    )
    return events


async def both(events: Any, pipeline: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """(through the helper, through mongomock's own whole-collection pipeline)"""
    plain = await events.aggregate(pipeline).to_list(None)
    return await aggregate(events, pipeline), list(plain)


def key(row: dict[str, Any]) -> str:
    return repr(sorted(row.items(), key=lambda item: item[0]))


async def test_the_activity_pipeline_gives_mongomocks_own_answer() -> None:
    events = await filled()
    plan = plan_buckets(BASE, BASE + timedelta(days=10), Interval.DAY)
    pipeline = [
        {"$match": {"occurredAt": {"$gte": plan.start, "$lt": plan.end}, "bridgeId": "default"}},
        {"$project": {"_id": 0, "occurredAt": 1, "action": 1, "outcome": 1}},
        {
            "$group": {
                "_id": {"at": _bucket_offset(plan.interval.length), "action": "$action"},
                "n": {"$sum": 1},
            }
        },
    ]
    fast, plain = await both(events, pipeline)
    assert len(fast) > 10 and sorted(map(key, fast)) == sorted(map(key, plain))


async def test_a_pipeline_on_whole_documents_gives_mongomocks_own_answer() -> None:
    events = await filled()
    pipeline = [
        {"$match": {"userId": {"$in": ["u1", "u2"]}}},
        {"$sort": {"userId": 1, "_id": -1}},
        {"$group": {"_id": "$userId", "doc": {"$first": "$$ROOT"}}},
        {"$sort": {"_id": 1}},
    ]
    fast, plain = await both(events, pipeline)
    assert [r["doc"]["_id"] for r in fast] == [r["doc"]["_id"] for r in plain] == [397, 398]
    assert fast == plain

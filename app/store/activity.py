"""Counts for charts, computed by the database: audit entries per bucket of time by action
and outcome, and emails by status.

Both pipelines use only stages and operators that MongoDB and mongomock share (`$match`,
`$project`, `$group`, `$sum`, `$subtract`, `$mod`; no `$dateTrunc`, which mongomock
lacks): a bucket is the entry's time minus its remainder after the bucket length, counted
from a Monday midnight UTC. On MongoDB each is answered from one index alone (a covered
query: the `$match` fields lead it and the `$project` keeps only indexed fields):
`audit_events.activity` and `notifications.stats_by_time` (see `app.store.indexes`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.domain.activity import ORIGIN, BucketPlan
from app.domain.models import AuditAction, AuditOutcome, NotificationStatus
from app.store.database import AUDIT_EVENTS, NOTIFICATIONS, Database, aggregate

# A naive origin: pymongo sends naive datetimes as UTC, and mongomock stores naive UTC
# datetimes and cannot subtract an aware one from them.
_ORIGIN = ORIGIN.replace(tzinfo=None)


def _bucket_offset(length: timedelta) -> dict[str, Any]:
    """Milliseconds from the origin to the start of the entry's bucket."""
    since = {"$subtract": ["$occurredAt", _ORIGIN]}  # date - date: milliseconds
    return {"$subtract": [since, {"$mod": [since, int(length.total_seconds() * 1000)]}]}


class ActivityRepository:
    """Aggregations over `audit_events` and `notifications`; reads only."""

    def __init__(self, database: Database) -> None:
        self._events = database.get_collection(AUDIT_EVENTS)
        self._notes = database.get_collection(NOTIFICATIONS)

    async def entry_counts(
        self, plan: BucketPlan, bridge_id: str | None
    ) -> list[tuple[datetime, AuditAction, AuditOutcome, int]]:
        """(bucket start, action, outcome, entries) for every non-empty combination."""
        match: dict[str, Any] = {"occurredAt": {"$gte": plan.start, "$lt": plan.end}}
        if bridge_id is not None:
            match["bridgeId"] = bridge_id
        rows = await aggregate(
            self._events,
            [
                {"$match": match},
                {"$project": {"_id": 0, "occurredAt": 1, "action": 1, "outcome": 1}},
                {
                    "$group": {
                        "_id": {
                            "at": _bucket_offset(plan.interval.length),
                            "action": "$action",
                            "outcome": "$outcome",
                        },
                        "n": {"$sum": 1},
                    }
                },
            ],
        )
        return [
            (
                ORIGIN + timedelta(milliseconds=int(row["_id"]["at"])),
                AuditAction(row["_id"]["action"]),
                AuditOutcome(row["_id"]["outcome"]),
                int(row["n"]),
            )
            for row in rows
        ]

    async def status_counts(self, start: datetime, end: datetime) -> dict[NotificationStatus, int]:
        """Emails recorded in [start, end), by their status now."""
        rows = await aggregate(
            self._notes,
            [
                {"$match": {"createdAt": {"$gte": start, "$lt": end}}},
                {"$project": {"_id": 0, "status": 1}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}}},
            ],
        )
        return {NotificationStatus(row["_id"]): int(row["n"]) for row in rows}

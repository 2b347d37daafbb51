"""Dashboards' aggregates: conference-ID activity per bucket of time, emails by status."""

from __future__ import annotations

from datetime import datetime

from app.domain.activity import ActivityBucket, Interval, StatusCount, plan_buckets
from app.domain.errors import BadRequest
from app.domain.models import NotificationStatus
from app.services.clock import Clock
from app.store.activity import ActivityRepository


class ActivityService:
    """Counts computed by the database, bounded in size, every bucket present."""

    def __init__(self, activity: ActivityRepository, clock: Clock) -> None:
        self._activity = activity
        self._clock = clock

    async def conference_id_activity(
        self, start: datetime, end: datetime | None, interval: Interval, bridge_id: str | None
    ) -> list[ActivityBucket]:
        """One bucket per interval from the one holding `start` to the one holding the
        instant before `end` (now by default), empty ones included, oldest first."""
        plan = plan_buckets(start, end or self._clock(), interval)
        buckets = {at: ActivityBucket(at) for at in plan.starts}
        for at, action, outcome, n in await self._activity.entry_counts(plan, bridge_id):
            buckets[at].count(action, outcome, n)
        return list(buckets.values())

    async def notification_stats(self, start: datetime, end: datetime | None) -> list[StatusCount]:
        """Emails recorded in [start, end) (end: now by default) by status, every status."""
        end = end or self._clock()
        if end <= start:
            raise BadRequest("`to` must be later than `from`.")
        counts = await self._activity.status_counts(start, end)
        return [StatusCount(status, counts.get(status, 0)) for status in NotificationStatus]

"""Activity over time for dashboards: buckets of changes and refusals, email counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from app.domain.errors import BadRequest
from app.domain.models import AuditAction, AuditOutcome, NotificationStatus

MAX_BUCKETS = 1000
# Buckets are counted from a Monday midnight UTC, so days start at 00:00 UTC and weeks on
# Monday (ISO 8601), whatever the range asked for.
ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)


class Interval(Enum):
    """How long one bucket of a chart is."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"

    @property
    def length(self) -> timedelta:
        return _LENGTHS[self]


_LENGTHS = {
    Interval.HOUR: timedelta(hours=1),
    Interval.DAY: timedelta(days=1),
    Interval.WEEK: timedelta(weeks=1),
}


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """Which buckets a range covers: `start` (aligned) to `end` (exclusive)."""

    start: datetime
    end: datetime
    interval: Interval

    @property
    def starts(self) -> list[datetime]:
        step = self.interval.length
        count = (self.end - self.start) // step
        return [self.start + step * n for n in range(count)]


def plan_buckets(start: datetime, end: datetime, interval: Interval) -> BucketPlan:
    """The buckets from the one holding `start` to the one holding the last instant before
    `end`; BadRequest for an empty range or one of more than MAX_BUCKETS buckets."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise BadRequest("`to` must be later than `from`.")
    step = interval.length
    first = ORIGIN + (start - ORIGIN) // step * step
    last = ORIGIN + (end - ORIGIN - timedelta(microseconds=1)) // step * step
    count = (last - first) // step + 1
    if count > MAX_BUCKETS:
        raise BadRequest(
            f"The range covers {count} buckets of one {interval.value.lower()}; at most "
            f"{MAX_BUCKETS} per request (ask for a longer interval or a shorter range)."
        )
    return BucketPlan(first, last + step, interval)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(slots=True)
class ActivityBucket:
    """What happened to conference IDs in one bucket of time."""

    start: datetime
    enabled: int = 0  # successful ASSIGN: users enabled for audio conferencing
    set: int = 0  # successful SET
    reset: int = 0  # successful RESET
    send_info: int = 0  # successful SEND_INFO
    rejected: int = 0  # REJECTED entries of any action

    def count(self, action: AuditAction, outcome: AuditOutcome, n: int) -> None:
        """Add `n` entries of this action and outcome. Refusals of any action count as
        refused; a bulk reset's start and end entries are no change of their own (each of
        its resets counts as a reset)."""
        if outcome is AuditOutcome.REJECTED:
            self.rejected += n
        elif action is AuditAction.ASSIGN:
            self.enabled += n
        elif action is AuditAction.SET:
            self.set += n
        elif action is AuditAction.RESET:
            self.reset += n
        elif action is AuditAction.SEND_INFO:
            self.send_info += n


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many emails recorded in a range have a status now."""

    status: NotificationStatus
    count: int

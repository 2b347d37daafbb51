"""Rate limits per caller: a leaky bucket of cost points per token or person, sized by role,
held in this process (docs/api.md, "Rate limits"), and what one request spent from it."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.access import Principal
from app.domain.bucket import BucketSize, LeakyBucket
from app.domain.models import Role

log = logging.getLogger("confid.ratelimit")

REFUSALS_LOGGED_EVERY = 60.0  # seconds: one log line per throttled token per minute
TRAIL_LENGTH_TTL = 30.0  # seconds a trail length is reused to price scans of the trail


@dataclass(frozen=True, slots=True)
class BucketStatus:
    """One token's bucket at a moment."""

    limit: int
    remaining: int
    restore_rate: float
    full_in: float  # seconds until it is full again


@dataclass(slots=True)
class _Refusals:
    count: int = 0  # refusals not logged yet
    logged_at: float | None = None


MAX_IDLE_BUCKETS = 10_000  # past this many callers, full (idle) buckets are forgotten


class RateLimiter:
    """A bucket per caller (`Principal.key`: a static token's name, a person's issuer and
    subject), whatever role the caller has today. A role without a size is not limited.
    Static tokens are bounded by the tokens file; people by the provider's users, and a
    full bucket is as good as none, so idle ones are dropped when there are many."""

    def __init__(
        self,
        sizes: Mapping[Role, BucketSize | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sizes = sizes
        self._clock = clock
        self._buckets: dict[str, LeakyBucket] = {}
        self._refusals: dict[str, _Refusals] = {}

    def _bucket(self, principal: Principal) -> LeakyBucket | None:
        size = self._sizes.get(principal.role)
        if size is None:
            return None
        now = self._clock()
        bucket = self._buckets.get(principal.key)
        if bucket is None:
            if len(self._buckets) >= MAX_IDLE_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[principal.key] = LeakyBucket.full(size, now)
        elif bucket.size != size:  # the caller's role changed: resize, never refill
            level = min(size.capacity, bucket.available(now))
            bucket = self._buckets[principal.key] = LeakyBucket(size, level, now)
        return bucket

    def _forget_full(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if b.full_in(now) == 0.0]:
            del self._buckets[key]
            self._refusals.pop(key, None)

    def status(self, principal: Principal) -> BucketStatus | None:
        bucket = self._bucket(principal)
        if bucket is None:
            return None
        now = self._clock()
        return BucketStatus(
            limit=int(bucket.size.capacity),
            remaining=int(bucket.available(now)),
            restore_rate=bucket.size.restore_rate,
            full_in=bucket.full_in(now),
        )

    def take(self, principal: Principal, points: int) -> float:
        """Take `points`: 0.0 when taken, else seconds to wait (and nothing is taken)."""
        bucket = self._bucket(principal)
        if bucket is None:
            return 0.0
        wait = bucket.take(points, self._clock())
        if wait > 0:
            self._refused(principal)
        else:
            self._served(principal)
        return wait

    def wait(self, principal: Principal, points: int) -> float:
        """Seconds until `points` are available (0.0: now), taking nothing; a wait counts
        as a refusal."""
        bucket = self._bucket(principal)
        if bucket is None:
            return 0.0
        now = self._clock()
        missing = points - bucket.available(now)
        if missing <= 0:
            return 0.0
        self._refused(principal)
        return missing / bucket.size.restore_rate

    def give_back(self, principal: Principal, points: int) -> None:
        bucket = self._bucket(principal)
        if bucket is not None:
            bucket.give_back(points, self._clock())

    def _refused(self, principal: Principal) -> None:
        """Count refusals and log them per token at most once a minute, so a flood does
        not flood the log either (and nothing of it reaches the audit trail)."""
        now = self._clock()
        seen = self._refusals.setdefault(principal.key, _Refusals())
        seen.count += 1
        if seen.logged_at is None or now - seen.logged_at >= REFUSALS_LOGGED_EVERY:
            self._log(principal, seen, now)

    def _served(self, principal: Principal) -> None:
        """The token is served again: log the refusals not logged yet, unless a line was
        logged for it within the minute (then the next refusal or service after the minute
        does: a caller that alternates between the two gets one line a minute too)."""
        seen = self._refusals.get(principal.key)
        if seen is None or not seen.count:
            return
        now = self._clock()
        if seen.logged_at is None or now - seen.logged_at >= REFUSALS_LOGGED_EVERY:
            self._log(principal, seen, now)

    def _log(self, principal: Principal, seen: _Refusals, now: float) -> None:
        since = "" if seen.logged_at is None else f" in the last {now - seen.logged_at:.0f} s"
        log.warning(
            "rate limit: token %r (%s): %d request(s) throttled%s",
            principal.name,
            principal.role.value.lower(),
            seen.count,
            since,
        )
        seen.count, seen.logged_at = 0, now

    def refusals(self, principal: Principal) -> int:
        """Refusals of this token not logged yet."""
        seen = self._refusals.get(principal.key)
        return seen.count if seen is not None else 0


class TrailLength:
    """The audit trail's length, re-read at most every 30 s: it prices scans of the trail
    (a slightly old length is fine for a price, and most requests never ask)."""

    def __init__(
        self,
        read: Callable[[], Awaitable[int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._clock = clock
        self._value = 0
        self._read_at: float | None = None

    async def get(self) -> int:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= TRAIL_LENGTH_TTL:
            self._value = await self._read()
            self._read_at = now
        return self._value


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """What every request of one app shares: the buckets, the maximum query cost and the
    trail length that prices scans."""

    limiter: RateLimiter
    max_query_cost: int
    trail_length: TrailLength


def retry_seconds(wait: float) -> int:
    """A limiter's wait as whole seconds for `Retry-After` and messages: at least 1; a
    minute for a cost larger than the whole bucket (an infinite wait)."""
    return 60 if math.isinf(wait) else max(1, math.ceil(wait))


@dataclass(slots=True)
class RequestBudget:
    """One request's cost figures, for `extensions.cost` and the `rateLimit` field."""

    limits: ApiLimits
    principal: Principal
    requested: int | None = None
    actual: int | None = None
    charged: int = 0
    retry_after: float | None = None
    per_scan: int = 0  # what one scan of the trail costs in this request

    def take(self, points: int) -> bool:
        """Charge `points` up front; False (and `retry_after` set) when the bucket lacks them."""
        wait = self.limits.limiter.take(self.principal, points)
        if wait > 0:
            self.retry_after = wait
            return False
        self.charged = points
        return True

    def settle(self, actual: int) -> None:
        """Give back what was charged beyond the actual cost."""
        self.actual = actual
        if self.charged > actual:
            self.limits.limiter.give_back(self.principal, self.charged - actual)
            self.charged = actual

    def retry_after_seconds(self) -> int:
        """Whole seconds for `Retry-After` (a cost over the bucket's size: a minute)."""
        return retry_seconds(self.retry_after or 1.0)

    def extension(self) -> dict[str, Any]:
        """`extensions.cost`, Shopify's shape."""
        status = self.limits.limiter.status(self.principal)
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
            "throttleStatus": None
            if status is None
            else {
                "maximumAvailable": status.limit,
                "currentlyAvailable": status.remaining,
                "restoreRate": status.restore_rate,
            },
        }

"""The leaky bucket of cost points behind each token's rate limit (pure arithmetic: the
caller passes the time, so tests and a second process can use any clock)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BucketSize:
    """How many points a bucket holds and how fast it refills (points per second)."""

    capacity: float
    restore_rate: float


@dataclass(slots=True)
class LeakyBucket:
    """Shopify-style: full at first; a request takes its cost out; points flow back at
    `restore_rate` per second up to `capacity`. Refused requests take nothing."""

    size: BucketSize
    level: float
    updated: float

    @classmethod
    def full(cls, size: BucketSize, now: float) -> LeakyBucket:
        return cls(size, size.capacity, now)

    def available(self, now: float) -> float:
        """Points available at `now` (the bucket is refilled first)."""
        if now > self.updated:
            refill = (now - self.updated) * self.size.restore_rate
            self.level = min(self.size.capacity, self.level + refill)
            self.updated = now
        return self.level

    def take(self, points: float, now: float) -> float:
        """Take `points`; 0.0 when done, else the seconds until they are available
        (nothing is taken then). A cost over the capacity can never be served: inf."""
        if points > self.size.capacity:
            return math.inf
        available = self.available(now)
        if points <= available:
            self.level = available - points
            return 0.0
        if self.size.restore_rate <= 0:
            return math.inf
        return (points - available) / self.size.restore_rate

    def give_back(self, points: float, now: float) -> None:
        """Return points not used after all (the actual cost was below the requested one)."""
        if points > 0:
            self.level = min(self.size.capacity, self.available(now) + points)

    def full_in(self, now: float) -> float:
        """Seconds until the bucket is full again."""
        missing = self.size.capacity - self.available(now)
        if missing <= 0:
            return 0.0
        return missing / self.size.restore_rate if self.size.restore_rate > 0 else math.inf

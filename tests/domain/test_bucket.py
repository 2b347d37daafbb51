"""The leaky bucket behind the rate limits: pure arithmetic over a given time."""

from __future__ import annotations

import math

from app.domain.bucket import BucketSize, LeakyBucket

SIZE = BucketSize(capacity=100, restore_rate=10)


def test_takes_until_empty_then_names_the_wait() -> None:
    bucket = LeakyBucket.full(SIZE, now=0)
    assert bucket.take(60, now=0) == 0.0
    assert bucket.take(60, now=0) == 2.0  # 20 missing at 10 a second; nothing taken
    assert bucket.available(now=0) == 40


def test_refills_over_time_up_to_its_capacity() -> None:
    bucket = LeakyBucket.full(SIZE, now=0)
    bucket.take(100, now=0)
    assert bucket.available(now=3) == 30
    assert bucket.full_in(now=3) == 7
    assert bucket.available(now=1000) == 100


def test_gives_back_unused_points_but_never_past_full() -> None:
    bucket = LeakyBucket.full(SIZE, now=0)
    bucket.take(80, now=0)
    bucket.give_back(30, now=0)
    assert bucket.available(now=0) == 50
    bucket.give_back(500, now=0)
    assert bucket.available(now=0) == 100


def test_a_cost_over_the_capacity_is_never_served() -> None:
    assert math.isinf(LeakyBucket.full(SIZE, now=0).take(101, now=0))

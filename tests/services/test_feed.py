"""Fan-out to live subscribers (app.services.feed): bounded queues; a dropped subscriber
lets go of what it held."""

from __future__ import annotations

from app.services.feed import Subscriber


def test_a_dropped_subscriber_forgets_what_it_held() -> None:
    subscriber: Subscriber[int] = Subscriber(lambda n: n % 2 == 0, capacity=2)
    for n in range(5):
        subscriber.offer(n)  # 0, 2 kept; 1, 3 refused by the filter; 4 overflows
    assert subscriber.dropped is not None and subscriber.waiting == 0

"""Fan-out to live subscribers through bounded queues: a subscriber that falls behind is
dropped (with a reason saying so) instead of making the process hold more and more."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SubscriberDropped(Exception):
    """The subscriber fell too far behind and was dropped; the message says why."""


class Subscriber(Generic[T]):
    """One subscription's queue: the tail offers items, the subscription takes them."""

    def __init__(
        self,
        accepts: Callable[[T], bool],
        capacity: int,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self._accepts = accepts
        self._capacity = capacity
        self._on_drop = on_drop
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()
        self.dropped: str | None = None

    def offer(self, item: T) -> None:
        """Queue the item if the subscriber wants it; drop the subscriber when its queue is
        full (it has not taken the last `capacity` items yet)."""
        if self.dropped is not None or not self._accepts(item):
            return
        if len(self._items) >= self._capacity:
            self.drop(
                f"dropped: {self._capacity} events were waiting, not read in time "
                "(read faster, or resubscribe after the last one you have)"
            )
            return
        self._items.append(item)
        self._ready.set()

    def drop(self, reason: str) -> None:
        """End the subscription: its queue is freed and `on_drop` hears why."""
        if self.dropped is not None:
            return
        self.dropped = reason
        self._items.clear()
        self._ready.set()
        if self._on_drop is not None:
            self._on_drop(reason)

    @property
    def waiting(self) -> int:
        """Items queued and not yet taken."""
        return len(self._items)

    async def take(self) -> T:
        """The next item, waiting for one; SubscriberDropped once dropped."""
        while not self._items:
            if self.dropped is not None:
                raise SubscriberDropped(self.dropped)
            self._ready.clear()
            await self._ready.wait()
        if self.dropped is not None:
            raise SubscriberDropped(self.dropped)
        return self._items.popleft()

    async def items(self) -> AsyncIterator[T]:
        while True:
            yield await self.take()


class Fanout(Generic[T]):
    """The subscribers of one tail; `publish` never waits on any of them."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber[T]] = set()

    def add(self, subscriber: Subscriber[T]) -> None:
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber[T]) -> None:
        self._subscribers.discard(subscriber)

    def __len__(self) -> int:
        return len(self._subscribers)

    def publish(self, item: T) -> None:
        """Offer the item to every subscriber, in the order items are published; the
        dropped ones leave."""
        for subscriber in list(self._subscribers):
            subscriber.offer(item)
            if subscriber.dropped is not None:
                self._subscribers.discard(subscriber)

    def close(self, reason: str) -> None:
        """Drop every subscriber (the process is stopping)."""
        for subscriber in list(self._subscribers):
            subscriber.drop(reason)
        self._subscribers.clear()

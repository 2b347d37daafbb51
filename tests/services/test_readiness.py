"""`/readyz`'s check (app.services.readiness): concurrent callers share one ping, whose
answer, success or failure, is reused for `ttl` seconds; a caller that goes away does not
cancel it. Through HTTP in tests/test_main.py."""

from __future__ import annotations

import asyncio

from app.services.readiness import Readiness


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Ping:
    """A check that counts its calls and answers `up` once `answer` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.up = True
        self.answer = asyncio.Event()

    async def __call__(self) -> bool:
        self.calls += 1
        await self.answer.wait()
        return self.up


async def test_fifty_concurrent_callers_share_one_ping() -> None:
    ping, clock = Ping(), Clock()
    ready = Readiness(ping, ttl=1.0, monotonic=clock)
    callers = [asyncio.ensure_future(ready()) for _ in range(50)]
    for _ in range(5):
        await asyncio.sleep(0)  # every caller is waiting now
    assert ping.calls == 1 and not any(c.done() for c in callers)
    ping.answer.set()
    assert await asyncio.gather(*callers) == [True] * 50
    assert ping.calls == 1


async def test_the_answer_is_reused_for_ttl_seconds_failures_too() -> None:
    ping, clock = Ping(), Clock()
    ping.answer.set()
    ready = Readiness(ping, ttl=1.0, monotonic=clock)
    assert await ready() is True
    clock.now += 0.9
    ping.up = False
    assert await ready() is True and ping.calls == 1  # still the last answer
    clock.now += 0.1
    assert await ready() is False and ping.calls == 2
    ping.up = True
    clock.now += 0.5
    assert await ready() is False and ping.calls == 2  # a failure is reused as well
    clock.now += 0.5
    assert await ready() is True and ping.calls == 3


async def test_a_caller_that_goes_away_does_not_cancel_the_ping() -> None:
    ping, clock = Ping(), Clock()
    ready = Readiness(ping, ttl=1.0, monotonic=clock)
    first = asyncio.ensure_future(ready())
    await asyncio.sleep(0)
    second = asyncio.ensure_future(ready())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    ping.answer.set()
    assert await second is True
    assert ping.calls == 1 and first.cancelled()

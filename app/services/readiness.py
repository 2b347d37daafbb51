"""What `/readyz` answers: whether the database answers a ping, asked at most once per
`ttl` however many probes come. `/readyz` needs no token and takes no place among the
requests in progress, so without this every call would be a database round trip."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Readiness:
    """`check` (a ping that answers True or False and does not raise), shared: callers
    that ask while it runs wait for the same call, and its answer is reused for `ttl`
    seconds after it ends (a failure too: it is as fresh as a success)."""

    def __init__(
        self,
        check: Callable[[], Awaitable[bool]],
        ttl: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._ttl = ttl
        self._monotonic = monotonic
        self._flight: asyncio.Task[bool] | None = None
        self._answer = False
        self._answered_at: float | None = None

    async def __call__(self) -> bool:
        at = self._answered_at
        if at is not None and self._monotonic() - at < self._ttl:
            return self._answer
        if self._flight is None:
            self._flight = asyncio.ensure_future(self._ask())
        # shield: a caller that goes away (its client hung up) does not cancel the check
        # the others wait for.
        return await asyncio.shield(self._flight)

    async def _ask(self) -> bool:
        try:
            answer = await self._check()
            self._answer, self._answered_at = answer, self._monotonic()
            return answer
        finally:
            self._flight = None

"""Taking turns on a user: the in-process queue, then the user's lock in the database.

Vocabulary (docs/architecture.md has the whole glossary):
  turn   this process's changes of one user queue up in arrival order (`UserTurns`);
  lock   the `lock` field of the user document, holding the change's intent; it is what
         serializes changes of one user across processes (`UserLocks`).
A lock whose change went quiet for longer than the grace period is repaired (finished or
undone) by `Completion` before anyone else takes it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from app.domain import rules
from app.domain.errors import Rejected
from app.domain.models import User
from app.domain.operation import Intent
from app.services.clock import Clock
from app.services.completion import Completion
from app.store.users import UserRepository

FIRST_BACKOFF = 0.005
MAX_BACKOFF = 0.2


class UserTurns:
    """Queues this process's changes of one user in arrival order."""

    def __init__(self) -> None:
        self._queues: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        """Wait for this user's earlier changes in this process, then go."""
        queue, waiting = self._queues.get(user_id, (asyncio.Lock(), 0))
        self._queues[user_id] = (queue, waiting + 1)
        try:
            async with queue:
                yield
        finally:
            queue, waiting = self._queues[user_id]
            if waiting <= 1:
                del self._queues[user_id]
            else:
                self._queues[user_id] = (queue, waiting - 1)


class UserLocks:
    """Takes a user's database lock, waiting (with backoff) for another process's change."""

    def __init__(
        self, users: UserRepository, completion: Completion, clock: Clock, wait: timedelta
    ) -> None:
        self._users = users
        self._completion = completion
        self._clock = clock
        self._wait = wait
        self._turns = UserTurns()

    def turn(self, user_id: str) -> AbstractAsyncContextManager[None]:
        """This process's turn on the user (see `UserTurns`); take it before the lock."""
        return self._turns.turn(user_id)

    async def acquire(self, intent: Intent) -> tuple[User, Intent]:
        """The user as locked and the intent as recorded in the lock.

        Raises Rejected: NOT_FOUND when there is no such user, CONFLICT when another change
        held the lock for the whole wait.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait.total_seconds()
        delay = FIRST_BACKOFF
        while True:
            # The lock's age counts from when it is taken, not from when the request came.
            intent = replace(intent, started_at=self._clock())
            locked = await self._users.lock(intent)
            if locked is not None:
                return locked.user, intent
            holder = await self._users.locked(intent.user_id)
            if holder is None:
                raise Rejected([rules.not_found()])
            if holder.intent is None:
                continue  # released between our two reads
            if self._completion.is_stale(holder.intent):
                await self._completion.repair_user(intent.user_id)
                continue
            if loop.time() >= deadline:
                raise Rejected([rules.conflict()])
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, MAX_BACKOFF)

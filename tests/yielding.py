"""A database wrapper whose every call yields to the event loop before and after.

mongomock runs each operation synchronously, so two requests never interleave on it by
themselves; a networked driver yields on every round trip. Races are tested through this.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

_ASYNC = {
    "find_one", "insert_one", "update_one", "update_many", "delete_one", "delete_many",
    "find_one_and_update", "count_documents", "create_index", "replace_one",
}  # fmt: skip


async def _pause(rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        await asyncio.sleep(0)


class YieldingCursor:
    def __init__(self, cursor: Any, rng: random.Random) -> None:
        self._cursor = cursor
        self._rng = rng

    def sort(self, *args: Any, **kwargs: Any) -> YieldingCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> YieldingCursor:
        self._cursor = self._cursor.limit(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        await _pause(self._rng)
        result = await self._cursor.to_list(length)
        await _pause(self._rng)
        return list(result)


class YieldingCollection:
    def __init__(self, collection: Any, rng: random.Random) -> None:
        self._collection = collection
        self._rng = rng
        self.calls = 0

    def find(self, *args: Any, **kwargs: Any) -> YieldingCursor:
        return YieldingCursor(self._collection.find(*args, **kwargs), self._rng)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name not in _ASYNC:
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            await _pause(self._rng)
            result = await target(*args, **kwargs)
            await _pause(self._rng)
            return result

        return call


class YieldingDatabase:
    """Wraps either driver's database; collections come back wrapped."""

    def __init__(self, database: Any, seed: int = 7) -> None:
        self._database = database
        self._rng = random.Random(seed)

    def get_collection(self, name: str) -> YieldingCollection:
        return YieldingCollection(self._database.get_collection(name), self._rng)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        await _pause(self._rng)
        return await self._database.command(*args, **kwargs)

"""A database wrapper that can be switched off, as if the server went away."""

from __future__ import annotations

from typing import Any

from pymongo.errors import ServerSelectionTimeoutError


class Switch:
    """Shared on/off state of the fake outage."""

    def __init__(self) -> None:
        self.down = False
        self.calls_while_down = 0

    def check(self) -> None:
        if self.down:
            self.calls_while_down += 1
            raise ServerSelectionTimeoutError("No servers available (fake outage)")


class _Cursor:
    def __init__(self, cursor: Any, switch: Switch) -> None:
        self._cursor, self._switch = cursor, switch

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> _Cursor:
        self._cursor = self._cursor.limit(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        self._switch.check()
        return list(await self._cursor.to_list(length))


class _Collection:
    def __init__(self, collection: Any, switch: Switch) -> None:
        self._collection, self._switch = collection, switch

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._collection.find(*args, **kwargs), self._switch)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._switch.check()
            return await target(*args, **kwargs)

        return call


class FaultyDatabase:
    """Every call raises ServerSelectionTimeoutError while `switch.down` is set."""

    def __init__(self, database: Any, switch: Switch) -> None:
        self._database, self.switch = database, switch

    def get_collection(self, name: str) -> _Collection:
        return _Collection(self._database.get_collection(name), self.switch)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        self.switch.check()
        return await self._database.command(*args, **kwargs)

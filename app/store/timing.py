"""Timing every database round trip, for the metrics (only wrapped in when they are on).

`TimedDatabase` wraps either driver's database: collections come back wrapped, and each
call that goes to the server reports its duration to `observer(collection, operation)`,
which returns the function that takes the seconds (bound once per collection and
operation, so a call costs two clock reads and that function). A `find` is timed when its
cursor is fetched (`to_list`), as that is when the round trip happens.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from time import perf_counter
from typing import Any

#: Returns the function that records one duration (seconds) of `operation` on `collection`.
Observer = Callable[[str, str], Callable[[float], None]]

# Collection methods that are one round trip each (awaited).
TIMED = frozenset(
    {
        "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
        "delete_one", "delete_many", "find_one_and_update", "find_one_and_replace",
        "find_one_and_delete", "count_documents", "estimated_document_count", "distinct",
        "create_index", "create_indexes", "drop_index", "index_information",
    }
)  # fmt: skip


class TimedCursor:
    """A `find` or `aggregate` cursor whose fetch is timed."""

    def __init__(
        self, cursor: Any, record: Callable[[float], None], opened_at: float | None = None
    ) -> None:
        self._cursor = cursor
        self._record = record
        self._opened_at = opened_at  # an awaited `aggregate`: its time counts from there

    def sort(self, *args: Any, **kwargs: Any) -> TimedCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> TimedCursor:
        self._cursor = self._cursor.limit(n)
        return self

    def skip(self, n: int) -> TimedCursor:
        self._cursor = self._cursor.skip(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        start = perf_counter() if self._opened_at is None else self._opened_at
        try:
            return list(await self._cursor.to_list(length))
        finally:
            self._record(perf_counter() - start)


class TimedCollection:
    """A collection whose server calls are timed; anything else passes through."""

    def __init__(self, collection: Any, name: str, observer: Observer) -> None:
        self._collection = collection
        self._name = name
        self._observer = observer
        self._recorders: dict[str, Callable[[float], None]] = {}

    def _recorder(self, operation: str) -> Callable[[float], None]:
        """Bound on first use, so operations never made report nothing at all."""
        record = self._recorders.get(operation)
        if record is None:
            record = self._recorders[operation] = self._observer(self._name, operation)
        return record

    def find(self, *args: Any, **kwargs: Any) -> TimedCursor:
        return TimedCursor(self._collection.find(*args, **kwargs), self._recorder("find"))

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        """pymongo's `aggregate` is awaited, mongomock-motor's is not: keep each shape."""
        record = self._recorder("aggregate")
        start = perf_counter()
        cursor = self._collection.aggregate(*args, **kwargs)
        if not inspect.isawaitable(cursor):
            return TimedCursor(cursor, record)

        async def opened() -> TimedCursor:
            return TimedCursor(await cursor, record, opened_at=start)

        return opened()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name not in TIMED:
            return target
        record = self._recorder(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                record(perf_counter() - start)

        setattr(self, name, call)  # built once: later calls skip __getattr__
        return call


class TimedDatabase:
    """Wraps a database; its collections and commands are timed."""

    def __init__(self, database: Any, observer: Observer) -> None:
        self._database = database
        self._observer = observer
        self._collections: dict[str, TimedCollection] = {}

    def get_collection(self, name: str) -> TimedCollection:
        if name not in self._collections:
            self._collections[name] = TimedCollection(
                self._database.get_collection(name), name, self._observer
            )
        return self._collections[name]

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        start = perf_counter()
        try:
            return await self._database.command(*args, **kwargs)
        finally:
            self._observer("(database)", "command")(perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

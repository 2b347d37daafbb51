"""A database wrapper that logs every round trip to the server, by collection and method.

A `find` costs its round trip when the cursor is fetched (`to_list` or async iteration); every
other collection method is one round trip per call. Works over either driver's database, as
`tests/yielding.py` does, and is injected with `create_app(settings, database=wrapped)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

READS = frozenset(
    {"find", "find_one", "count_documents", "estimated_document_count", "distinct", "aggregate"}
)
WRITES = frozenset(
    {
        "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
        "delete_many", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
        "bulk_write",
    }
)  # fmt: skip
OTHER = frozenset({"create_index", "create_indexes", "drop_index", "index_information"})


@dataclass
class CallLog:
    """Every round trip since the last `clear`, in order."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def clear(self) -> None:
        self.calls.clear()

    def reads(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[1] in READS]

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[1] in WRITES]

    def describe(self) -> str:
        """`collection.method xN` lines, in first-call order (for assertion messages)."""
        counts = Counter(f"{collection}.{method}" for collection, method in self.calls)
        return ", ".join(f"{name} x{n}" for name, n in counts.items()) or "nothing"


class CountingCursor:
    def __init__(self, cursor: Any, log: CallLog, collection: str) -> None:
        self._cursor = cursor
        self._log = log
        self._collection = collection

    def sort(self, *args: Any, **kwargs: Any) -> CountingCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> CountingCursor:
        self._cursor = self._cursor.limit(n)
        return self

    def skip(self, n: int) -> CountingCursor:
        self._cursor = self._cursor.skip(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        self._log.calls.append((self._collection, "find"))
        return list(await self._cursor.to_list(length))

    async def __aiter__(self) -> AsyncIterator[Any]:
        self._log.calls.append((self._collection, "find"))
        async for doc in self._cursor:
            yield doc


class CountingCollection:
    def __init__(self, collection: Any, log: CallLog, name: str) -> None:
        self._collection = collection
        self._log = log
        self._name = name

    def find(self, *args: Any, **kwargs: Any) -> CountingCursor:
        return CountingCursor(self._collection.find(*args, **kwargs), self._log, self._name)

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        self._log.calls.append((self._name, "aggregate"))
        return self._collection.aggregate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name not in READS | WRITES | OTHER:
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._log.calls.append((self._name, name))
            return await target(*args, **kwargs)

        return call


class CountingDatabase:
    """Wraps a database; collections come back wrapped, all logging into `log`."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.log = CallLog()

    def get_collection(self, name: str) -> CountingCollection:
        return CountingCollection(self._database.get_collection(name), self.log, name)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        self.log.calls.append(("(database)", "command"))
        return await self._database.command(*args, **kwargs)

    async def list_collection_names(self, *args: Any, **kwargs: Any) -> Any:
        self.log.calls.append(("(database)", "list_collection_names"))
        return await self._database.list_collection_names(*args, **kwargs)

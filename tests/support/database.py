"""The one database wrapper of the tests: round trips that interleave, fail, die or are counted.

`WrappedDatabase` wraps either driver's database (mongomock-motor or pymongo's async client,
injected with `create_app(settings, database=wrapped)`); collections and cursors come back
wrapped. A round trip is every collection method that goes to the server (a `find` when its
cursor is fetched, with `to_list` or `async for`; an `aggregate` when it is called) and the
database's `command` and `list_collection_names`. Each option acts on those:

    interleave=True     yield to the event loop before and after (a seeded random 1-3 times):
                        mongomock runs each call synchronously, so two requests never
                        interleave on it by themselves, as they do on a networked driver.
                        Races are tested through this.
    outage=Outage()     while `outage.down` is set, raise ServerSelectionTimeoutError, as if
                        the server went away.
    killer=Killer()     once armed with `killer.arm(n)`, the n-th write from then on (and
                        every call after it) raises `ProcessDied` before it lands, as when a
                        process is killed.
    log=CallLog()       log every round trip as (collection, method), in order.
    after_write=hook    `hook(collection, method, args, kwargs)` runs after each write has
                        landed; it may raise (a write that landed but whose answer was lost).
    hold=Hold("users")  while `hold.closed()`, every round trip on that collection (or any,
                        with no name) waits before it is sent, until `hold.release()`;
                        `hold.waiting` counts the calls held (requests kept in progress).

Anything else passes through untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import ServerSelectionTimeoutError

from tests.support.faults import ProcessDied

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
INDEXES = frozenset({"create_index", "create_indexes", "drop_index", "index_information"})
DATABASE = "(database)"  # the collection name logged for the database's own calls

AfterWrite = Callable[[str, str, tuple[Any, ...], dict[str, Any]], None]


class Outage:
    """Shared on/off state of a fake outage."""

    def __init__(self) -> None:
        self.down = False
        self.calls_while_down = 0

    def check(self) -> None:
        if self.down:
            self.calls_while_down += 1
            raise ServerSelectionTimeoutError("No servers available (fake outage)")


class Killer:
    """Counts writes; once armed, the `at`-th write from then on dies before it lands."""

    def __init__(self) -> None:
        self.writes = 0
        self.at: int | None = None
        self.dead = False
        self.last: str | None = None

    def arm(self, at: int) -> None:
        self.writes, self.at, self.dead = 0, at, False

    def check(self, what: str) -> None:
        if self.dead:
            raise ProcessDied(f"already dead, {what}")
        self.writes += 1
        if self.at is not None and self.writes == self.at:
            self.dead = True
            self.last = what
            raise ProcessDied(f"killed at write {self.at}: {what}")


class Hold:
    """Round trips that wait (on one collection, or all) until released."""

    def __init__(self, collection: str | None = None) -> None:
        self.collection = collection
        self.waiting = 0
        self._open: asyncio.Event | None = None

    def close(self) -> None:
        self._open = asyncio.Event()

    def release(self) -> None:
        if self._open is not None:
            self._open.set()
            self._open = None

    async def wait(self, collection: str) -> None:
        gate = self._open
        if gate is None or self.collection not in (None, collection):
            return
        self.waiting += 1
        try:
            await gate.wait()
        finally:
            self.waiting -= 1


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


@dataclass
class _Options:
    """What happens around each round trip; shared by a database and all it hands out."""

    rng: random.Random | None = None
    outage: Outage | None = None
    killer: Killer | None = None
    log: CallLog | None = None
    after_write: AfterWrite | None = None
    hold: Hold | None = None

    async def held(self, collection: str) -> None:
        if self.hold is not None:
            await self.hold.wait(collection)

    async def pause(self) -> None:
        if self.rng is not None:
            for _ in range(self.rng.randint(1, 3)):
                await asyncio.sleep(0)

    def starting(self, collection: str, method: str) -> None:
        """What happens before a round trip is sent (nothing here yields)."""
        if self.log is not None:
            self.log.calls.append((collection, method))
        if self.outage is not None:
            self.outage.check()
        if self.killer is not None and method in WRITES:
            self.killer.check(f"{collection}.{method}")

    async def call(
        self, collection: str, method: str, target: Any, args: Any, kwargs: dict[str, Any]
    ) -> Any:
        """One awaited round trip, with every option around it."""
        self.starting(collection, method)
        await self.held(collection)
        await self.pause()
        result = await target(*args, **kwargs)
        if self.after_write is not None and method in WRITES:
            self.after_write(collection, method, tuple(args), kwargs)
        await self.pause()
        return result


class WrappedCursor:
    """A `find` (or `aggregate`) cursor whose fetch is the round trip."""

    def __init__(self, cursor: Any, options: _Options, collection: str, method: str) -> None:
        self._cursor = cursor
        self._options = options
        self._collection = collection
        self._method = method

    def sort(self, *args: Any, **kwargs: Any) -> WrappedCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, n: int) -> WrappedCursor:
        self._cursor = self._cursor.limit(n)
        return self

    def skip(self, n: int) -> WrappedCursor:
        self._cursor = self._cursor.skip(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        self._options.starting(self._collection, self._method)
        await self._options.held(self._collection)
        await self._options.pause()
        result = list(await self._cursor.to_list(length))
        await self._options.pause()
        return result

    async def __aiter__(self) -> AsyncIterator[Any]:
        self._options.starting(self._collection, self._method)
        await self._options.held(self._collection)
        await self._options.pause()
        async for doc in self._cursor:
            yield doc
        await self._options.pause()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class WrappedCollection:
    """A collection whose round trips go through the options; anything else passes."""

    def __init__(self, collection: Any, options: _Options, name: str) -> None:
        self._collection = collection
        self._options = options
        self._name = name

    def find(self, *args: Any, **kwargs: Any) -> WrappedCursor:
        cursor = self._collection.find(*args, **kwargs)
        return WrappedCursor(cursor, self._options, self._name, "find")

    def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        """pymongo's `aggregate` is awaited, mongomock-motor's is not: keep each shape."""
        self._options.starting(self._name, "aggregate")
        cursor = self._collection.aggregate(*args, **kwargs)
        if not inspect.isawaitable(cursor):
            return _Fetched(cursor, self._options)

        async def opened() -> Any:
            await self._options.pause()
            result = await cursor
            await self._options.pause()
            return result

        return opened()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name not in READS | WRITES | INDEXES:
            return target
        options, collection = self._options, self._name

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await options.call(collection, name, target, args, kwargs)

        return call


class _Fetched:
    """mongomock-motor's `aggregate` cursor: counted when called, may yield when fetched."""

    def __init__(self, cursor: Any, options: _Options) -> None:
        self._cursor = cursor
        self._options = options

    async def to_list(self, length: int | None = None) -> list[Any]:
        await self._options.pause()
        result = list(await self._cursor.to_list(length))
        await self._options.pause()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class WrappedDatabase:
    """Wraps either driver's database; see the module's docstring for the options."""

    def __init__(
        self,
        database: Any,
        *,
        interleave: bool = False,
        seed: int = 7,
        outage: Outage | None = None,
        killer: Killer | None = None,
        log: CallLog | None = None,
        after_write: AfterWrite | None = None,
        hold: Hold | None = None,
    ) -> None:
        self._database = database
        self._options = _Options(
            random.Random(seed) if interleave else None, outage, killer, log, after_write, hold
        )

    @property
    def outage(self) -> Outage | None:
        return self._options.outage

    @property
    def killer(self) -> Killer | None:
        return self._options.killer

    @property
    def log(self) -> CallLog | None:
        return self._options.log

    def get_collection(self, name: str) -> WrappedCollection:
        return WrappedCollection(self._database.get_collection(name), self._options, name)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        return await self._options.call(DATABASE, "command", self._database.command, args, kwargs)

    async def list_collection_names(self, *args: Any, **kwargs: Any) -> Any:
        target = self._database.list_collection_names
        return await self._options.call(DATABASE, "list_collection_names", target, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

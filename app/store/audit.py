"""The `audit_events` collection: gapless, hash-linked appends and filtered reads.

Entries are only ever inserted. `_id` is the sequence, so two writers can never take the
same place: the loser of a race re-reads the head and tries the next place. Within one
process appends are serialized by a lock and the head is cached, so a normal append is a
single insert.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain.audit import GENESIS_HASH, AuditDraft, seal
from app.domain.errors import StoreError
from app.domain.instants import iso_millis
from app.domain.models import AuditAction, AuditEntry, AuditOutcome
from app.domain.signing import Signer
from app.store import codec
from app.store.database import AUDIT_EVENTS, Database, aggregate

MAX_APPEND_ATTEMPTS = 1000
VERIFY_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a reader wants; every field optional, all combined with AND."""

    user_id: str | None = None
    actions: tuple[AuditAction, ...] = ()
    action: AuditAction | None = None
    outcome: AuditOutcome | None = None
    actor: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None

    def describe(self) -> dict[str, str]:
        """The filter in plain words, for manifests and the access log."""
        out: dict[str, str] = {}
        if self.user_id is not None:
            out["userId"] = self.user_id
        if self.action is not None:
            out["action"] = self.action.value
        elif self.actions:
            out["actions"] = ",".join(a.value for a in self.actions)
        if self.outcome is not None:
            out["outcome"] = self.outcome.value
        if self.actor is not None:
            out["actor"] = self.actor
        if self.occurred_from is not None:
            out["from"] = iso_millis(self.occurred_from)
        if self.occurred_to is not None:
            out["to"] = iso_millis(self.occurred_to)
        return out

    @property
    def empty(self) -> bool:
        return not self.describe()

    def query(self) -> dict[str, Any]:
        q: dict[str, Any] = {}
        if self.user_id is not None:
            q["userId"] = self.user_id
        if self.action is not None:
            q["action"] = self.action.value
        elif self.actions:
            q["action"] = {"$in": [a.value for a in self.actions]}
        if self.outcome is not None:
            q["outcome"] = self.outcome.value
        if self.actor is not None:
            q["actor.name"] = self.actor
        span: dict[str, datetime] = {}
        if self.occurred_from is not None:
            span["$gte"] = self.occurred_from
        if self.occurred_to is not None:
            span["$lt"] = self.occurred_to
        if span:
            q["occurredAt"] = span
        return q


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as read for verification: decoded, or the reason it could not be."""

    sequence: int
    entry: AuditEntry | None
    problem: str | None


class AuditRepository:
    """Append-only access to the audit chain."""

    def __init__(self, database: Database, signer: Signer | None = None) -> None:
        self._events = database.get_collection(AUDIT_EVENTS)
        self._signer = signer
        self._lock = asyncio.Lock()
        self._head: tuple[int, str] | None = None

    async def head(self) -> tuple[int, str]:
        """(sequence, hash) of the newest stored entry; (0, genesis) when empty."""
        return await self._read_head()

    async def _read_head(self) -> tuple[int, str]:
        newest = await self._newest_id()
        if newest is None:
            return 0, GENESIS_HASH
        doc = await self._events.find_one({"_id": newest}, {"hash": 1})
        return newest, str(doc["hash"]) if doc else ""

    async def _exists_from(self, sequence: int) -> bool:
        # A count with limit 1: no document is fetched or copied, on either store.
        return bool(await self._events.count_documents({"_id": {"$gte": sequence}}, limit=1))

    async def _newest_id(self) -> int | None:
        """The highest `_id`, by exponential then binary search over "is there an id >= n".

        Each probe is one indexed count on a server, and a scan without sorting or copying
        on the embedded store, so finding the head never holds the trail in memory.
        """
        if not await self._exists_from(1):
            return None
        low, high = 1, 2  # an id >= low exists; find high with none >= high
        while await self._exists_from(high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if await self._exists_from(middle):
                low = middle
            else:
                high = middle
        return low

    async def edge_sequence(
        self, where: AuditFilter, *, newest: bool, up_to: int | None = None
    ) -> int | None:
        """The lowest (or highest) matching sequence; only ids are read, never whole entries."""
        if where.empty and newest and up_to is None:
            return await self._newest_id()
        query = where.query()
        if up_to is not None:
            query["_id"] = {"$lte": up_to}
        cursor = self._events.find(query, {"_id": 1}).sort("_id", -1 if newest else 1).limit(1)
        docs = await cursor.to_list(None)
        return int(docs[0]["_id"]) if docs else None

    async def append(self, draft: AuditDraft) -> AuditEntry:
        """Add the draft as the next entry of the chain and return it sealed."""
        async with self._lock:
            head = self._head or await self._read_head()
            for _ in range(MAX_APPEND_ATTEMPTS):
                entry = seal(draft, head[0] + 1, head[1], self._signer)
                try:
                    await self._events.insert_one(codec.audit_doc(entry))
                except DuplicateKeyError:
                    existing = await self.by_operation(draft.operation_id)
                    if existing is not None:
                        return existing  # this operation is already in the chain
                    head = await self._read_head()  # another process appended first
                    continue
                except BaseException:
                    self._head = None  # unknown whether it landed: re-read next time
                    raise
                self._head = (entry.sequence, entry.hash)
                return entry
            raise StoreError("could not append to the audit trail: the head kept moving")

    async def by_operation(self, operation_id: str) -> AuditEntry | None:
        doc = await self._events.find_one({"operationId": operation_id})
        return codec.audit_from(doc) if doc else None

    async def latest_for_users(self, user_ids: list[str]) -> dict[str, AuditEntry]:
        """Each user's newest entry, in one aggregation (served by the `by_user` index)."""
        docs = await aggregate(
            self._events,
            [
                {"$match": {"userId": {"$in": user_ids}}},
                {"$sort": {"userId": 1, "_id": -1}},
                {"$group": {"_id": "$userId", "doc": {"$first": "$$ROOT"}}},
            ],
        )
        return {d["_id"]: codec.audit_from(d["doc"]) for d in docs}

    async def get_many(self, sequences: list[int]) -> dict[int, AuditEntry]:
        if len(sequences) == 1:  # an equality match is the cheaper query on both stores
            doc = await self._events.find_one({"_id": sequences[0]})
            return {sequences[0]: codec.audit_from(doc)} if doc else {}
        cursor = self._events.find({"_id": {"$in": sequences}})
        return {int(d["_id"]): codec.audit_from(d) for d in await cursor.to_list(None)}

    async def page(
        self, where: AuditFilter, first: int, before: int | None
    ) -> tuple[list[AuditEntry], bool]:
        """Newest first: up to `first` entries below sequence `before`, and whether more."""
        query = where.query()
        if before is not None:
            query["_id"] = {"$lt": before}
        cursor = self._events.find(query).sort("_id", -1).limit(first + 1)
        docs = await cursor.to_list(None)
        return [codec.audit_from(d) for d in docs[:first]], len(docs) > first

    async def count(self, where: AuditFilter, up_to: int | None = None) -> int:
        """How many entries match (up to sequence `up_to`, when given)."""
        query = where.query()
        if up_to is not None:
            query["_id"] = {"$lte": up_to}
        return int(await self._events.count_documents(query))

    async def ascending(
        self,
        page_size: int = VERIFY_PAGE,
        where: AuditFilter | None = None,
        up_to: int | None = None,
    ) -> AsyncIterator[StoredEntry]:
        """Matching stored entries in storage order, read in bounded pages.

        Sequences are gapless integers, so each page is a range of `_id`s rather than a
        sort-and-limit over the whole collection: memory stays bounded on any store (the
        embedded one sorts in memory), and a real server walks the `_id` index.
        """
        if up_to is None:
            up_to = (await self._read_head())[0]
        base = where.query() if where else {}
        for start in range(0, up_to, page_size):
            span = {"$gt": start, "$lte": min(start + page_size, up_to)}
            docs = await self._events.find({**base, "_id": span}).sort("_id", 1).to_list(None)
            for doc in docs:
                try:
                    yield StoredEntry(int(doc["_id"]), codec.audit_from(doc), None)
                except (KeyError, ValueError, TypeError, AttributeError) as exc:
                    yield StoredEntry(int(doc["_id"]), None, f"{type(exc).__name__}: {exc}")

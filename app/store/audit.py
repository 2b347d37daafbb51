"""The `audit_events` collection: insert-only entries and filtered reads.

`_id` is the sequence, so two writers can never take the same place; sealing entries and
retrying a lost place is the chain's job (`app.services.chain`), not the store's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain.chain import GENESIS_HASH
from app.domain.entry import AuditEntry
from app.domain.reads import AuditFilter
from app.store import codec
from app.store.database import AUDIT_EVENTS, Database, aggregate

VERIFY_PAGE = 1000


def audit_query(where: AuditFilter) -> dict[str, Any]:
    """The MongoDB query of a filter."""
    q: dict[str, Any] = {}
    if where.user_id is not None:
        q["userId"] = where.user_id
    if where.action is not None:
        q["action"] = where.action.value
    elif where.actions:
        q["action"] = {"$in": [a.value for a in where.actions]}
    if where.outcome is not None:
        q["outcome"] = where.outcome.value
    if where.actor is not None:
        q["actor.name"] = where.actor
    if where.actor_subject is not None:
        q["actor.subject"] = where.actor_subject
    if where.incident_id is not None:
        q["incidentId"] = where.incident_id
    span: dict[str, datetime] = {}
    if where.occurred_from is not None:
        span["$gte"] = where.occurred_from
    if where.occurred_to is not None:
        span["$lt"] = where.occurred_to
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

    def __init__(self, database: Database) -> None:
        self._events = database.get_collection(AUDIT_EVENTS)

    async def head(self) -> tuple[int, str]:
        """(sequence, hash) of the newest stored entry; (0, genesis) when empty."""
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

    async def has(self, sequence: int) -> bool:
        """True when the entry at `sequence` is stored (one equality look-up on `_id`)."""
        return await self._events.find_one({"_id": sequence}, {"_id": 1}) is not None

    async def any_after(self, sequence: int) -> bool:
        """True when an entry above `sequence` is stored."""
        return await self._exists_from(sequence + 1)

    async def after(self, sequence: int, limit: int) -> list[StoredEntry]:
        """The stored entries from `sequence` + 1 to `sequence` + `limit`, in order (a
        range of `_id`s, like `ascending`'s pages)."""
        span = {"$gt": sequence, "$lte": sequence + limit}
        docs = await self._events.find({"_id": span}).sort("_id", 1).to_list(None)
        return [_stored(doc) for doc in docs]

    async def edge_sequence(
        self, where: AuditFilter, *, newest: bool, up_to: int | None = None
    ) -> int | None:
        """The lowest (or highest) matching sequence; only ids are read, never whole entries."""
        if where.empty and newest and up_to is None:
            return await self._newest_id()
        query = audit_query(where)
        if up_to is not None:
            query["_id"] = {"$lte": up_to}
        cursor = self._events.find(query, {"_id": 1}).sort("_id", -1 if newest else 1).limit(1)
        docs = await cursor.to_list(None)
        return int(docs[0]["_id"]) if docs else None

    async def insert(self, entry: AuditEntry) -> bool:
        """Store a sealed entry at its sequence; False when that place (or its operation)
        is already taken. Entries are never updated or deleted."""
        try:
            await self._events.insert_one(codec.audit_doc(entry))
        except DuplicateKeyError:
            return False
        return True

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
        query = audit_query(where)
        if before is not None:
            query["_id"] = {"$lt": before}
        cursor = self._events.find(query).sort("_id", -1).limit(first + 1)
        docs = await cursor.to_list(None)
        return [codec.audit_from(d) for d in docs[:first]], len(docs) > first

    async def count(self, where: AuditFilter, up_to: int | None = None) -> int:
        """How many entries match (up to sequence `up_to`, when given)."""
        query = audit_query(where)
        if up_to is not None:
            query["_id"] = {"$lte": up_to}
        return int(await self._events.count_documents(query))

    async def ascending(
        self,
        page_size: int = VERIFY_PAGE,
        where: AuditFilter | None = None,
        up_to: int | None = None,
        after: int = 0,
    ) -> AsyncIterator[StoredEntry]:
        """Matching stored entries in storage order (after sequence `after`, up to `up_to`
        or the head), read in bounded pages.

        Sequences are gapless integers, so each page is a range of `_id`s rather than a
        sort-and-limit over the whole collection: memory stays bounded on any store (the
        embedded one sorts in memory), and a real server walks the `_id` index.
        """
        if up_to is None:
            up_to = (await self.head())[0]
        base = audit_query(where) if where else {}
        for start in range(after, up_to, page_size):
            span = {"$gt": start, "$lte": min(start + page_size, up_to)}
            docs = await self._events.find({**base, "_id": span}).sort("_id", 1).to_list(None)
            for doc in docs:
                yield _stored(doc)
            # Let other requests run between pages: a scan of a long trail (verification,
            # export, evidence) never holds the event loop for more than one page, even
            # on a driver that answers without yielding (the embedded store).
            await asyncio.sleep(0)


def _stored(doc: dict[str, Any]) -> StoredEntry:
    """A stored document decoded strictly, or the reason it cannot be."""
    try:
        return StoredEntry(int(doc["_id"]), codec.audit_from(doc, strict=True), None)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return StoredEntry(int(doc["_id"]), None, f"{type(exc).__name__}: {exc}")

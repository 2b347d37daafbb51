"""The `idempotency_keys` collection: which operation a caller's key started."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain.errors import Problem, UserErrorCode
from app.store.codec import utc
from app.store.database import IDEMPOTENCY_KEYS, Database


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key's first use: what input it came with and the operation it started."""

    fingerprint: str
    operation_id: str
    created_at: datetime
    problems: list[Problem] | None  # None until the first request finished


def _id(actor: str, key: str) -> str:
    return f"{actor}\x1f{key}"


class IdempotencyRepository:
    """Keys are scoped to the caller (token name), so two callers never collide."""

    def __init__(self, database: Database) -> None:
        self._keys = database.get_collection(IDEMPOTENCY_KEYS)

    async def claim(
        self, actor: str, key: str, fingerprint: str, operation_id: str, now: datetime
    ) -> KeyRecord | None:
        """Record the key's first use; if it was used before, return that use instead."""
        try:
            await self._keys.insert_one(
                {
                    "_id": _id(actor, key),
                    "fingerprint": fingerprint,
                    "operationId": operation_id,
                    "createdAt": now,
                }
            )
            return None
        except DuplicateKeyError:
            doc = await self._keys.find_one({"_id": _id(actor, key)})
            if doc is None:  # pragma: no cover - expired in between
                return await self.claim(actor, key, fingerprint, operation_id, now)
            return _record(doc)

    async def get(self, actor: str, key: str) -> KeyRecord | None:
        doc = await self._keys.find_one({"_id": _id(actor, key)})
        return _record(doc) if doc else None

    async def finish(self, actor: str, key: str, problems: list[Problem]) -> None:
        """Keep the first request's userErrors, so a replay returns them word for word."""
        stored = [
            {"code": p.code.value, "message": p.message, "field": list(p.field), "rule": p.rule}
            for p in problems
        ]
        await self._keys.update_one({"_id": _id(actor, key)}, {"$set": {"problems": stored}})

    async def take_over(
        self, actor: str, key: str, stale_op: str, operation_id: str, now: datetime
    ) -> bool:
        """Point a key whose first request died (left no trace) at a new operation; the
        new one starts its own lease, so later retries wait for it in turn."""
        result = await self._keys.update_one(
            {"_id": _id(actor, key), "operationId": stale_op, "problems": {"$exists": False}},
            {"$set": {"operationId": operation_id, "createdAt": now}},
        )
        return bool(result.modified_count)


def _record(doc: dict[str, Any]) -> KeyRecord:
    problems = doc.get("problems")
    return KeyRecord(
        fingerprint=doc["fingerprint"],
        operation_id=doc["operationId"],
        created_at=utc(doc["createdAt"]),
        problems=None
        if problems is None
        else [
            Problem(UserErrorCode(p["code"]), p["message"], tuple(p["field"]), p.get("rule"))
            for p in problems
        ],
    )

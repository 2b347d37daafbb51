"""The `audit_access_log` collection: who read or exported the trail, and with what filter.

Kept apart from the change chain, so reads never serialize with changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.ids import MonotonicIds
from app.domain.models import RequestMeta
from app.domain.reads import AccessRecord
from app.store import codec
from app.store.codec import utc
from app.store.database import AUDIT_ACCESS_LOG, Database


class AccessLogRepository:
    """Insert-only; read newest first (ids order records, even within a millisecond)."""

    def __init__(self, database: Database) -> None:
        self._log = database.get_collection(AUDIT_ACCESS_LOG)
        self._ids = MonotonicIds()

    async def record(
        self, meta: RequestMeta, what: str, details: dict[str, str], at: datetime
    ) -> None:
        doc: dict[str, Any] = {
            "_id": self._ids.next(at),
            "at": at,
            "what": what,
            "details": details,
            **codec.meta_doc(meta),
        }
        await self._log.insert_one(doc)

    async def page(
        self, actor: str | None, first: int, before: str | None
    ) -> tuple[list[AccessRecord], bool]:
        query: dict[str, Any] = {}
        if actor is not None:
            query["actor.name"] = actor
        if before is not None:
            query["_id"] = {"$lt": before}
        docs = await self._log.find(query).sort("_id", -1).limit(first + 1).to_list(None)
        records = [
            AccessRecord(
                id=d["_id"],
                at=utc(d["at"]),
                what=d["what"],
                details=dict(d.get("details") or {}),
                meta=codec.meta_from(d),
            )
            for d in docs[:first]
        ]
        return records, len(docs) > first

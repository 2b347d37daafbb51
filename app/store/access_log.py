"""The `audit_access_log` collection: who read or exported the trail, and with what filter.

Kept apart from the change chain, so reads never serialize with changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.models import Actor, RequestMeta, Role
from app.store.codec import utc
from app.store.database import AUDIT_ACCESS_LOG, Database


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One read of the trail."""

    id: str
    at: datetime
    what: str
    details: dict[str, str]
    meta: RequestMeta


class AccessLogRepository:
    """Insert-only; read newest first."""

    def __init__(self, database: Database) -> None:
        self._log = database.get_collection(AUDIT_ACCESS_LOG)

    async def record(
        self, meta: RequestMeta, what: str, details: dict[str, str], at: datetime
    ) -> None:
        doc: dict[str, Any] = {
            "_id": f"{at.strftime('%Y%m%d%H%M%S%f')}-{secrets.token_hex(4)}",
            "at": at,
            "what": what,
            "details": details,
            "actor": {"name": meta.actor.name, "role": meta.actor.role.value},
        }
        for key, value in (("sourceIp", meta.source_ip), ("userAgent", meta.user_agent),
                           ("requestId", meta.request_id)):  # fmt: skip
            if value is not None:
                doc[key] = value
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
                meta=RequestMeta(
                    actor=Actor(d["actor"]["name"], Role(d["actor"]["role"])),
                    source_ip=d.get("sourceIp"),
                    user_agent=d.get("userAgent"),
                    request_id=d.get("requestId"),
                ),
            )
            for d in docs[:first]
        ]
        return records, len(docs) > first

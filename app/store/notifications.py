"""The `notifications` collection: every email, recorded before it is handed over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain.models import Notification, NotificationKind, NotificationStatus
from app.store import codec
from app.store.codec import utc
from app.store.database import NOTIFICATIONS, Database


class NotificationRepository:
    """Insert once per operation; status moves forward only from PENDING."""

    def __init__(self, database: Database) -> None:
        self._notes = database.get_collection(NOTIFICATIONS)

    async def record(self, notification: Notification) -> Notification:
        """Insert the record; if this operation already has one, return that instead."""
        try:
            await self._notes.insert_one(codec.notification_doc(notification))
        except DuplicateKeyError:
            existing = await self.by_operation(notification.operation_id)
            if existing is None:
                raise
            return existing
        return notification

    async def by_operation(self, operation_id: str) -> Notification | None:
        doc = await self._notes.find_one({"operationId": operation_id})
        return codec.notification_from(doc) if doc else None

    async def get_many(self, ids: list[str]) -> dict[str, Notification]:
        cursor = self._notes.find({"_id": {"$in": ids}})
        return {d["_id"]: codec.notification_from(d) for d in await cursor.to_list(None)}

    async def claim_delivery(self, notification_id: str, now: datetime) -> bool:
        """Mark a PENDING record as being handed over; False if someone else already did."""
        result = await self._notes.update_one(
            {
                "_id": notification_id,
                "status": NotificationStatus.PENDING.value,
                "handoverAt": {"$exists": False},
            },
            {"$set": {"handoverAt": now}},
        )
        return bool(result.modified_count)

    async def settle(
        self, notification_id: str, status: NotificationStatus, error: str | None
    ) -> bool:
        """Set the final status of a PENDING record; False if it was settled already."""
        update: dict[str, Any] = {"status": status.value}
        if error is not None:
            update["error"] = error
        result = await self._notes.update_one(
            {"_id": notification_id, "status": NotificationStatus.PENDING.value},
            {"$set": update},
        )
        return bool(result.modified_count)

    async def pending_before(self, cutoff: datetime) -> list[tuple[Notification, datetime | None]]:
        """PENDING records older than `cutoff`, each with when its hand-over began (if)."""
        cursor = self._notes.find(
            {"status": NotificationStatus.PENDING.value, "createdAt": {"$lt": cutoff}}
        )
        return [
            (codec.notification_from(d), utc(d["handoverAt"]) if "handoverAt" in d else None)
            for d in await cursor.to_list(None)
        ]

    async def page(
        self, user_id: str | None, kind: NotificationKind | None, first: int, before: int | None
    ) -> tuple[list[Notification], bool]:
        """Newest first (by the audit sequence that caused each email)."""
        query: dict[str, Any] = {}
        if user_id is not None:
            query["userId"] = user_id
        if kind is not None:
            query["kind"] = kind.value
        if before is not None:
            query["auditSequence"] = {"$lt": before}
        cursor = self._notes.find(query).sort("auditSequence", -1).limit(first + 1)
        docs = await cursor.to_list(None)
        return [codec.notification_from(d) for d in docs[:first]], len(docs) > first

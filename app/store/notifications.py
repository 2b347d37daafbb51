"""The `notifications` collection: every email, recorded before it is handed over."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.models import Notification, NotificationKind, NotificationStatus
from app.store import codec
from app.store.codec import utc
from app.store.database import NOTIFICATIONS, Database

# Every write bumps the record's revision and stamps when it happened (the server's clock),
# so live subscribers can follow changes (`changed_since`, app.services.email_tail).
_CHANGED: dict[str, Any] = {"$inc": {"rev": 1}, "$currentDate": {"updatedAt": True}}


class NotificationRepository:
    """Insert once per operation; each hand-over attempt is claimed with a lease.

    The lease is two fields on the record, `handoverAt` (when the attempt began) and
    `leaseOwner` (which process holds it), set by one atomic update that also counts the
    attempt, and removed when the attempt is settled. A record with a lease is never
    claimed again; one whose lease is older than the recovery grace period belonged to a
    process that died mid-hand-over, and recovery marks it FAILED ("delivery unknown").
    """

    def __init__(self, database: Database) -> None:
        self._notes = database.get_collection(NOTIFICATIONS)

    async def record(self, notification: Notification) -> Notification:
        """Insert the record; if this operation already has one, return that instead."""
        try:
            doc = codec.notification_doc(notification)
            doc.update(rev=1, updatedAt=notification.created_at)
            await self._notes.insert_one(doc)
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

    async def get(self, notification_id: str) -> Notification | None:
        doc = await self._notes.find_one({"_id": notification_id})
        return codec.notification_from(doc) if doc else None

    async def resend_of(self, notification_id: str) -> Notification | None:
        """The email that sent `notification_id` again, if one did."""
        doc = await self._notes.find_one({"resendOf": notification_id})
        return codec.notification_from(doc) if doc else None

    async def claim_first(self, notification_id: str, now: datetime, owner: str) -> bool:
        """Take the lease on a PENDING record's first hand-over; False if someone has it."""
        result = await self._notes.update_one(
            {
                "_id": notification_id,
                "status": NotificationStatus.PENDING.value,
                "handoverAt": {"$exists": False},
            },
            {
                "$set": {"handoverAt": now, "leaseOwner": owner},
                "$inc": {"attempts": 1, "rev": 1},
                "$currentDate": {"updatedAt": True},
            },
        )
        return bool(result.modified_count)

    async def claim_due(
        self, now: datetime, owner: str, exclude: Collection[str] = ()
    ) -> Notification | None:
        """Take the lease on the RETRYING record due longest, in one atomic update, and
        count the attempt; None when none is due (or every due one is leased)."""
        query: dict[str, Any] = {
            "status": NotificationStatus.RETRYING.value,
            "nextAttemptAt": {"$lte": now},
            "handoverAt": {"$exists": False},
        }
        if exclude:
            query["_id"] = {"$nin": list(exclude)}
        doc = await self._notes.find_one_and_update(
            query,
            {
                "$set": {"handoverAt": now, "leaseOwner": owner},
                "$inc": {"attempts": 1, "rev": 1},
                "$currentDate": {"updatedAt": True},
            },
            sort=[("nextAttemptAt", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return codec.notification_from(doc) if doc else None

    async def settle(
        self,
        notification_id: str,
        expected: NotificationStatus,
        attempts: int,
        status: NotificationStatus,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        sent_at: datetime | None = None,
    ) -> bool:
        """End the hand-over that made attempt number `attempts` of a record still in
        `expected`: set its new status and give the lease back. False when that hand-over
        was settled already (by a sweep that judged it lost, say)."""
        update: dict[str, Any] = {"$set": {"status": status.value}}
        unset = {"handoverAt": "", "leaseOwner": ""}
        if error is not None:
            update["$set"]["lastError"] = error
        if next_attempt_at is not None:
            update["$set"]["nextAttemptAt"] = next_attempt_at
        else:
            unset["nextAttemptAt"] = ""
        if sent_at is not None:
            update["$set"]["sentAt"] = sent_at
        update["$unset"] = unset
        update.update(_CHANGED)
        # Records from before attempts were counted have no `attempts` field (null matches).
        count: Any = attempts if attempts else {"$in": [0, None]}
        # The lease must still be held: a hand-over settled once is never settled again.
        result = await self._notes.update_one(
            {
                "_id": notification_id,
                "status": expected.value,
                "attempts": count,
                "handoverAt": {"$exists": True},
            },
            update,
        )
        return bool(result.modified_count)

    async def stale_before(self, cutoff: datetime) -> list[tuple[Notification, datetime | None]]:
        """PENDING records older than `cutoff`, and RETRYING ones whose hand-over began
        before it; each with when its hand-over began (if it did)."""
        cursor = self._notes.find(
            {
                "$or": [
                    {"status": NotificationStatus.PENDING.value, "createdAt": {"$lt": cutoff}},
                    {
                        "status": NotificationStatus.RETRYING.value,
                        "handoverAt": {"$lt": cutoff},
                    },
                ]
            }
        )
        return [
            (codec.notification_from(d), utc(d["handoverAt"]) if "handoverAt" in d else None)
            for d in await cursor.to_list(None)
        ]

    async def backlog(self, status: NotificationStatus) -> tuple[int, datetime | None]:
        """How many records are in `status`, and when the oldest of them was created (two
        reads on the `status, createdAt` index)."""
        count = int(await self._notes.count_documents({"status": status.value}))
        if not count:
            return 0, None
        cursor = self._notes.find({"status": status.value}, {"createdAt": 1})
        docs = await cursor.sort("createdAt", ASCENDING).limit(1).to_list(None)
        return count, utc(docs[0]["createdAt"]) if docs else None

    async def changed_since(
        self, since: datetime, position: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[Notification, int, datetime]]:
        """(record, rev, stamp) of records written at or after `since`, oldest write first,
        after `position` (the (stamp, id) of the previous page's last record) when given."""
        query: dict[str, Any] = {"updatedAt": {"$gte": since}}
        if position is not None:
            stamp, note_id = position
            query = {
                "$or": [
                    {"updatedAt": {"$gt": stamp}},
                    {"updatedAt": stamp, "_id": {"$gt": note_id}},
                ]
            }
        cursor = self._notes.find(query).sort([("updatedAt", ASCENDING), ("_id", ASCENDING)])
        docs = await cursor.limit(limit).to_list(None)
        return [
            (codec.notification_from(d), int(d.get("rev", 0)), utc(d["updatedAt"])) for d in docs
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

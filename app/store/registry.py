"""The `conference_ids` registry: every ID ever claimed on a bridge, so none is reused.

The document id is `<bridgeId>:<conferenceId>`, so claiming is one insert and a second
claim of the same ID fails on the primary key, whatever the timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.store.codec import utc
from app.store.database import CONFERENCE_IDS, Database


class IdState(Enum):
    """Where an ID is in its life."""

    RESERVED = "RESERVED"  # claimed by a change in flight
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


@dataclass(frozen=True, slots=True)
class Registration:
    """One registry document."""

    bridge_id: str
    conference_id: str
    user_id: str
    state: IdState
    operation_id: str
    retired_at: datetime | None


def _key(bridge_id: str, conference_id: str) -> str:
    return f"{bridge_id}:{conference_id}"


def _registration(doc: dict[str, Any]) -> Registration:
    return Registration(
        bridge_id=doc["bridgeId"],
        conference_id=doc["conferenceId"],
        user_id=doc["userId"],
        state=IdState(doc["state"]),
        operation_id=doc["op"],
        retired_at=utc(doc["retiredAt"]) if doc.get("retiredAt") else None,
    )


class ConferenceIdRegistry:
    """Claim, activate, retire and release conference IDs."""

    def __init__(self, database: Database, quarantine: timedelta | None) -> None:
        self._ids = database.get_collection(CONFERENCE_IDS)
        self._quarantine = quarantine

    async def get(self, bridge_id: str, conference_id: str) -> Registration | None:
        doc = await self._ids.find_one({"_id": _key(bridge_id, conference_id)})
        return _registration(doc) if doc is not None else None

    async def get_many(self, keys: list[tuple[str, str]]) -> list[Registration]:
        """The registrations of (bridge, conference ID) pairs; unknown pairs are left out."""
        cursor = self._ids.find({"_id": {"$in": [_key(b, c) for b, c in keys]}})
        return [_registration(doc) for doc in await cursor.to_list(None)]

    async def claim(
        self, bridge_id: str, conference_id: str, user_id: str, operation_id: str, now: datetime
    ) -> Registration | None:
        """Reserve the ID for a change; on a clash return who has it (None = claimed)."""
        doc = {
            "_id": _key(bridge_id, conference_id),
            "bridgeId": bridge_id,
            "conferenceId": conference_id,
            "userId": user_id,
            "state": IdState.RESERVED.value,
            "op": operation_id,
            "at": now,
        }
        for _ in range(2):
            try:
                await self._ids.insert_one(doc)
                return None
            except DuplicateKeyError:
                existing = await self.get(bridge_id, conference_id)
                if existing is None:
                    continue  # released between our insert and read: try once more
                if not await self._expire_quarantine(existing, now):
                    return existing
        existing = await self.get(bridge_id, conference_id)
        if existing is None:  # pragma: no cover - released twice in a row
            raise RuntimeError("conference ID registry kept changing during a claim")
        return existing

    async def is_free_again(self, existing: Registration, now: datetime) -> bool:
        """True when a retired ID's quarantine has run out (never, by default)."""
        if self._quarantine is None or existing.state is not IdState.RETIRED:
            return False
        return existing.retired_at is not None and existing.retired_at <= now - self._quarantine

    async def _expire_quarantine(self, existing: Registration, now: datetime) -> bool:
        """Free a retired ID whose quarantine has run out; True when it was freed."""
        if self._quarantine is None or existing.state is not IdState.RETIRED:
            return False
        cutoff = now - self._quarantine
        result = await self._ids.delete_one(
            {
                "_id": _key(existing.bridge_id, existing.conference_id),
                "state": IdState.RETIRED.value,
                "retiredAt": {"$lte": cutoff},
            }
        )
        return bool(result.deleted_count)

    async def activate(self, bridge_id: str, conference_id: str, operation_id: str) -> None:
        await self._ids.update_one(
            {"_id": _key(bridge_id, conference_id), "op": operation_id},
            {"$set": {"state": IdState.ACTIVE.value}},
        )

    async def retire(self, bridge_id: str, conference_id: str, now: datetime) -> None:
        """Retire an ID for good (idempotent; a retired ID keeps its first retirement)."""
        await self._ids.update_one(
            {"_id": _key(bridge_id, conference_id), "state": {"$ne": IdState.RETIRED.value}},
            {"$set": {"state": IdState.RETIRED.value, "retiredAt": now}},
        )

    async def release(self, operation_id: str) -> None:
        """Drop reservations of a change that did not commit."""
        await self._ids.delete_many({"op": operation_id, "state": IdState.RESERVED.value})

    async def reserved_before(self, cutoff: datetime) -> list[str]:
        """Operation ids holding reservations since before `cutoff`."""
        cursor = self._ids.find({"state": IdState.RESERVED.value, "at": {"$lt": cutoff}}, {"op": 1})
        return sorted({d["op"] for d in await cursor.to_list(None)})

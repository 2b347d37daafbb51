"""The `users` collection: directory reads, keyset pages, and the per-user change lock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from app.domain.models import AudioConferencing, User
from app.domain.operation import Intent
from app.domain.reads import UserKey
from app.store import codec
from app.store.database import USERS, Database


@dataclass(frozen=True, slots=True)
class LockedUser:
    """A user document together with the intent of the change that holds its lock."""

    user: User
    intent: Intent | None


class UserRepository:
    """Reads and guarded writes of user documents."""

    def __init__(self, database: Database) -> None:
        self._users = database.get_collection(USERS)

    async def get(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id}, {"lock": 0})
        return codec.user_from(doc) if doc else None

    async def get_many(self, user_ids: list[str]) -> dict[str, User]:
        if len(user_ids) == 1:  # an equality match is the cheaper query on both stores
            user = await self.get(user_ids[0])
            return {user.id: user} if user else {}
        cursor = self._users.find({"_id": {"$in": user_ids}}, {"lock": 0})
        return {d["_id"]: codec.user_from(d) for d in await cursor.to_list(None)}

    async def by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"emailKey": email.casefold()}, {"lock": 0})
        return codec.user_from(doc) if doc else None

    async def by_emails(self, emails: list[str]) -> dict[str, User]:
        """Users by address (any case), keyed by the casefolded address."""
        keys = list({e.casefold() for e in emails})
        cursor = self._users.find({"emailKey": {"$in": keys}}, {"lock": 0})
        return {d["emailKey"]: codec.user_from(d) for d in await cursor.to_list(None)}

    async def holders(self, bridge_ids: list[str], conference_ids: list[str]) -> list[User]:
        """The users whose active ID is one of `conference_ids` on one of the bridges."""
        cursor = self._users.find(
            {"audio.bridgeId": {"$in": bridge_ids}, "audio.conferenceId": {"$in": conference_ids}},
            {"lock": 0},
        )
        return [codec.user_from(d) for d in await cursor.to_list(None)]

    async def selected(self, bridge_id: str | None, search: str | None) -> list[User]:
        """Every user enabled on `bridge_id`, or whose name or email contains `search`
        (both given: either), in id order."""
        clauses: list[dict[str, Any]] = []
        if bridge_id is not None:
            clauses.append({"audio.bridgeId": bridge_id})
        if search:
            pattern = re.escape(search.casefold())
            clauses.append({"displayNameKey": {"$regex": pattern}})
            clauses.append({"emailKey": {"$regex": pattern}})
        if not clauses:
            return []
        cursor = self._users.find({"$or": clauses}, {"lock": 0}).sort("_id", 1)
        return [codec.user_from(d) for d in await cursor.to_list(None)]

    async def holder_of(self, bridge_id: str, conference_id: str) -> User | None:
        """The user whose active ID this is; retired IDs are held by nobody."""
        doc = await self._users.find_one(
            {"audio.bridgeId": bridge_id, "audio.conferenceId": conference_id}, {"lock": 0}
        )
        return codec.user_from(doc) if doc else None

    async def page(
        self, first: int, after: UserKey | None, search: str | None, bridge_id: str | None = None
    ) -> tuple[list[tuple[User, UserKey]], bool]:
        """Up to `first` users in directory order after `after`, and whether more follow;
        with `bridge_id`, only the users enabled on that bridge."""
        clauses: list[dict[str, Any]] = []
        if bridge_id is not None:
            clauses.append({"audio.bridgeId": bridge_id})
        if search:
            pattern = re.escape(search.casefold())
            clauses.append(
                {
                    "$or": [
                        {"displayNameKey": {"$regex": pattern}},
                        {"emailKey": {"$regex": pattern}},
                    ]
                }
            )
        if after is not None:
            clauses.append(
                {
                    "$or": [
                        {"displayNameKey": {"$gt": after.name_key}},
                        {"displayNameKey": after.name_key, "_id": {"$gt": after.user_id}},
                    ]
                }
            )
        query = {"$and": clauses} if clauses else {}
        cursor = (
            self._users.find(query, {"lock": 0})
            .sort([("displayNameKey", 1), ("_id", 1)])
            .limit(first + 1)
        )
        docs = await cursor.to_list(None)
        rows = [(codec.user_from(d), UserKey(d["displayNameKey"], d["_id"])) for d in docs]
        return rows[:first], len(rows) > first

    async def insert(self, user: User) -> None:
        await self._users.insert_one(codec.user_doc(user))

    # --- the change lock -------------------------------------------------------------

    async def lock(self, intent: Intent) -> LockedUser | None:
        """Take the user's lock, recording the intent; None when another change holds it."""
        doc = await self._users.find_one_and_update(
            {"_id": intent.user_id, "lock": {"$exists": False}},
            {"$set": {"lock": codec.intent_doc(intent)}},
            return_document=ReturnDocument.AFTER,
        )
        return LockedUser(codec.user_from(doc), intent) if doc else None

    async def locked(self, user_id: str) -> LockedUser | None:
        """The user with the intent that holds its lock (intent None when unlocked)."""
        doc = await self._users.find_one({"_id": user_id})
        if doc is None:
            return None
        lock = doc.get("lock")
        return LockedUser(codec.user_from(doc), codec.intent_from(user_id, lock) if lock else None)

    async def locked_before(self, cutoff: datetime) -> list[str]:
        """Ids of users whose lock was taken before `cutoff` (changes that may have died)."""
        cursor = self._users.find({"lock.at": {"$lt": cutoff}}, {"_id": 1})
        return [d["_id"] for d in await cursor.to_list(None)]

    async def is_locked_by(self, operation_id: str) -> bool:
        """True when some user's lock belongs to this operation."""
        return await self.holder_by_operation(operation_id) is not None

    async def holder_by_operation(self, operation_id: str) -> str | None:
        """The id of the user whose lock belongs to this operation, if any."""
        doc = await self._users.find_one({"lock.op": operation_id}, {"_id": 1})
        return str(doc["_id"]) if doc else None

    async def commit(self, intent: Intent, audio: AudioConferencing | None) -> bool:
        """The commit point: the new ID and `committed` land in one atomic update.

        Returns False when the lock is no longer this operation's.
        """
        update: dict[str, Any] = {"lock.committed": True}
        if intent.bridge_id is not None:
            update["lock.bridgeId"] = intent.bridge_id
        if intent.previous_conference_id is not None:
            update["lock.previous"] = intent.previous_conference_id
        if intent.new_conference_id is not None:
            update["lock.new"] = intent.new_conference_id
        if audio is not None:
            update["audio"] = codec.audio_doc(audio)
        result = await self._users.update_one(
            {
                "_id": intent.user_id,
                "lock.op": intent.operation_id,
                "lock.aborted": {"$exists": False},
            },
            {"$set": update},
        )
        return bool(result.matched_count)

    async def abort(self, user_id: str, operation_id: str) -> bool:
        """Mark this operation's lock aborted unless it committed; True when it is aborted.

        Atomic against `commit`: whichever lands first wins, so an undo can never take back
        a change that committed meanwhile (a commit after this point matches nothing).
        """
        result = await self._users.update_one(
            {"_id": user_id, "lock.op": operation_id, "lock.committed": {"$ne": True}},
            {"$set": {"lock.aborted": True}},
        )
        return bool(result.matched_count)

    async def unlock(self, user_id: str, operation_id: str) -> None:
        """Release the lock if this operation still holds it."""
        await self._users.update_one(
            {"_id": user_id, "lock.op": operation_id}, {"$unset": {"lock": ""}}
        )

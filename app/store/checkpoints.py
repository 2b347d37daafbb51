"""The `audit_checkpoints` collection: signed chain heads, insert-only."""

from __future__ import annotations

from app.domain.checkpoint import Checkpoint
from app.domain.ids import MonotonicIds
from app.store import codec
from app.store.database import AUDIT_CHECKPOINTS, Database


class CheckpointRepository:
    """Checkpoints are only ever inserted; listed in signing order."""

    def __init__(self, database: Database) -> None:
        self._checkpoints = database.get_collection(AUDIT_CHECKPOINTS)
        self._ids = MonotonicIds()

    async def insert(self, checkpoint: Checkpoint) -> str:
        """Store a checkpoint; its id sorts by signing time."""
        doc = codec.checkpoint_doc(checkpoint)
        doc["_id"] = self._ids.next(checkpoint.signed_at)
        await self._checkpoints.insert_one(doc)
        return str(doc["_id"])

    async def all(self, up_to: int | None = None) -> list[Checkpoint]:
        """Every checkpoint (at or below sequence `up_to`), oldest first."""
        query = {} if up_to is None else {"sequence": {"$lte": up_to}}
        docs = await self._checkpoints.find(query).sort("_id", 1).to_list(None)
        return [codec.checkpoint_from(d) for d in docs]

    async def page(
        self, first: int, before: str | None
    ) -> tuple[list[tuple[str, Checkpoint]], bool]:
        """Newest first, each with its time-ordered id (keyset cursors)."""
        query = {} if before is None else {"_id": {"$lt": before}}
        docs = await self._checkpoints.find(query).sort("_id", -1).limit(first + 1).to_list(None)
        return [(d["_id"], codec.checkpoint_from(d)) for d in docs[:first]], len(docs) > first

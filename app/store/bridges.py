"""The `bridges` collection."""

from __future__ import annotations

import time

from pymongo.errors import DuplicateKeyError

from app.domain.models import Bridge
from app.store import codec
from app.store.database import BRIDGES, Database


class BridgeRepository:
    """Bridges are few and never change (no operation edits one), so they are cached per
    process; the list is re-read every `ttl` seconds to see bridges other processes add."""

    def __init__(self, database: Database, ttl: float = 30.0) -> None:
        self._bridges = database.get_collection(BRIDGES)
        self._ttl = ttl
        self._cache: dict[str, Bridge] = {}
        self._loaded_at: float | None = None

    async def all(self) -> list[Bridge]:
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > self._ttl:
            docs = await self._bridges.find({}).sort("_id", 1).to_list(None)
            self._cache = {d["_id"]: codec.bridge_from(d) for d in docs}
            self._loaded_at = now
        return list(self._cache.values())

    async def get(self, bridge_id: str) -> Bridge | None:
        cached = self._cache.get(bridge_id)
        if cached is not None:
            return cached
        doc = await self._bridges.find_one({"_id": bridge_id})
        if doc is None:
            return None
        bridge = self._cache[bridge_id] = codec.bridge_from(doc)
        return bridge

    async def default(self) -> Bridge | None:
        return next((b for b in await self.all() if b.is_default), None)

    async def insert(self, bridge: Bridge) -> bool:
        """Add a bridge; False when one with this id exists already."""
        try:
            await self._bridges.insert_one(codec.bridge_doc(bridge))
        except DuplicateKeyError:
            return False
        finally:
            self._loaded_at = None
        return True

"""The `bridges` collection."""

from __future__ import annotations

from app.domain.models import Bridge
from app.store import codec
from app.store.database import BRIDGES, Database


class BridgeRepository:
    """Bridges are few and never change their ID length; reads only, plus seeding."""

    def __init__(self, database: Database) -> None:
        self._bridges = database.get_collection(BRIDGES)

    async def all(self) -> list[Bridge]:
        docs = await self._bridges.find({}).sort("_id", 1).to_list(None)
        return [codec.bridge_from(d) for d in docs]

    async def get(self, bridge_id: str) -> Bridge | None:
        doc = await self._bridges.find_one({"_id": bridge_id})
        return codec.bridge_from(doc) if doc else None

    async def default(self) -> Bridge | None:
        doc = await self._bridges.find_one({"isDefault": True})
        return codec.bridge_from(doc) if doc else None

    async def insert(self, bridge: Bridge) -> None:
        await self._bridges.insert_one(codec.bridge_doc(bridge))

"""Reads of users, bridges and who holds an ID."""

from __future__ import annotations

from app.domain.models import Bridge, User
from app.domain.reads import UserKey
from app.store.bridges import BridgeRepository
from app.store.users import UserRepository


class DirectoryService:
    """Users and bridges as callers see them."""

    def __init__(self, users: UserRepository, bridges: BridgeRepository) -> None:
        self._users = users
        self._bridges = bridges

    async def user(self, user_id: str) -> User | None:
        return await self._users.get(user_id)

    async def users_by_id(self, user_ids: list[str]) -> dict[str, User]:
        return await self._users.get_many(user_ids)

    async def user_by_email(self, email: str) -> User | None:
        return await self._users.by_email(email)

    async def users_page(
        self, first: int, after: UserKey | None, search: str | None, bridge_id: str | None = None
    ) -> tuple[list[tuple[User, UserKey]], bool]:
        return await self._users.page(first, after, search, bridge_id)

    async def bridges(self) -> list[Bridge]:
        return await self._bridges.all()

    async def bridge(self, bridge_id: str) -> Bridge | None:
        return await self._bridges.get(bridge_id)

    async def holder(self, bridge_id: str | None, conference_id: str) -> User | None:
        """Who a caller entering `conference_id` reaches; None for retired or unknown IDs."""
        bridge = await (self._bridges.get(bridge_id) if bridge_id else self._bridges.default())
        if bridge is None or len(conference_id) != bridge.conference_id_length:
            return None
        return await self._users.holder_of(bridge.id, conference_id)

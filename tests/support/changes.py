"""Changes through the public API, returning their payloads."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api, operation


async def set_id(api: Api, user_id: str, conference_id: str, **extra: Any) -> dict[str, Any]:
    """`setConferenceId` as admin; its payload."""
    data = await api.data(
        operation("SetConferenceId"),
        {"input": {"userId": user_id, "conferenceId": conference_id, **extra}},
    )
    result: dict[str, Any] = data["setConferenceId"]
    return result

"""Shared by the auditor tests: exports over HTTP and both verifiers side by side."""

from __future__ import annotations

from typing import Any

from app.audit.verify import FileVerification, verify_export
from tests.support.api import Api, operation


async def export_text(api: Api, token: str = "auditor", **params: str) -> str:
    from tests.support.api import TOKENS

    response = await api.client.get(
        "/audit/export", params=params, headers={"Authorization": f"Bearer {TOKENS[token]}"}
    )
    assert response.status_code == 200, response.text
    return response.text


async def online(api: Api) -> dict[str, Any]:
    data = await api.data(operation("VerifyAuditTrail"), token="auditor")
    result: dict[str, Any] = data["verifyAuditTrail"]
    return result


async def offline(api: Api, **params: str) -> FileVerification:
    return verify_export((await export_text(api, **params)).splitlines(keepends=True))


async def history(api: Api, changes: int = 6) -> None:
    """A few resets, a refused set and a send, on the first two enabled users."""
    for n in range(changes):
        user = await api.enabled_user(n % 2)
        await api.data(
            operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": f"r{n}"}}
        )
    user = await api.enabled_user()
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "1234567"}}
    )
    await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})

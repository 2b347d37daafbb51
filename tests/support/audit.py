"""Shared by the auditor tests: exports over HTTP and both verifiers side by side, a small
history to verify, and export files written by older releases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.audit.verify import FileVerification, verify_export
from tests.support.api import ROOT, TOKENS, Api, operation


async def export_text(api: Api, token: str = "auditor", **params: str) -> str:
    """GET /audit/export as `token`, with `params`: the file's text."""
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


# Exports written before the actor named the person (format 2), committed as made by that
# release, with the public key that signed them.
FIXTURES = ROOT / "tests" / "audit" / "fixtures"
PUBLIC_KEY = FIXTURES / "format2-public.pem"
FORMAT2 = [FIXTURES / "format2-trail.jsonl", FIXTURES / "format2-trail.csv"]


def file_lines(path: Path) -> list[str]:
    """An export file's lines, as a verifier reads them."""
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def split_lines(text: str) -> list[str]:
    """An export's text as lines, as a verifier reads them."""
    return text.splitlines(keepends=True)


async def checkpoint(api: Api) -> dict[str, Any]:
    data = await api.data(operation("CreateAuditCheckpoint"))
    payload: dict[str, Any] = data["createAuditCheckpoint"]
    return payload


async def trail_head(api: Api) -> int:
    return int(await api.services.database.get_collection("audit_events").count_documents({}))


async def make_history(api: Api, resets: int = 4) -> None:
    user = await api.enabled_user()
    for _ in range(resets):
        await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "12"}}
    )


async def trail_length(api: Api) -> int:
    """The sequence of the newest audit entry."""
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    return int(data["auditEvents"]["edges"][0]["node"]["sequence"])

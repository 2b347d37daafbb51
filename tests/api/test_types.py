"""Object types of the schema (app.api.types): fields resolved on a user."""

from __future__ import annotations

from tests.support.api import Api, operation


async def test_latest_audit_event_per_user(api: Api) -> None:
    user = await api.enabled_user()
    done = await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    query = "query($id: ID) { user(id: $id) { latestAuditEvent { sequence action } } }"
    data = await api.data(query, {"id": user["id"]}, "auditor")
    latest = data["user"]["latestAuditEvent"]
    assert latest == {"sequence": done["resetConferenceId"]["auditEvent"]["sequence"],
                      "action": "RESET"}  # fmt: skip
    denied = await api.gql(query, {"id": user["id"]}, "helpdesk")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    disabled = await api.disabled_user()
    data = await api.data(query, {"id": disabled["id"]}, "auditor")
    assert data["user"]["latestAuditEvent"] is None

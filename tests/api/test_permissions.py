"""Roles (SPEC §3): what each may do; a refused request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, operation

ALLOWED = {
    "Viewer": {"admin", "helpdesk", "auditor"},
    "ListUsers": {"admin", "helpdesk", "auditor"},
    "ListBridges": {"admin", "helpdesk", "auditor"},
    "CheckConferenceId": {"admin", "helpdesk", "auditor"},
    "LookupConferenceId": {"admin", "helpdesk"},
    "ListAuditEvents": {"admin", "auditor"},
    "ListNotifications": {"admin", "auditor"},
    "VerifyAuditTrail": {"admin", "auditor"},
    "EnableAudioConferencing": {"admin", "helpdesk"},
    "ResetConferenceId": {"admin", "helpdesk"},
    "SendConferenceInfo": {"admin", "helpdesk"},
    "SetConferenceId": {"admin"},
    "ResendNotification": {"admin"},
    "CreateAuditCheckpoint": {"admin"},
    "AuditCheckpoints": {"admin", "auditor"},
    "AuditSigningKey": {"admin", "helpdesk", "auditor"},
    "AuditAccessLog": {"admin", "auditor"},
    "UserEvidence": {"admin", "auditor"},
    "ConferenceIdHistory": {"admin", "auditor"},
    "PreviewBulkReset": {"admin", "helpdesk"},
    "StartBulkReset": {"admin"},
    "CancelBulkReset": {"admin"},
    "BulkResetJob": {"admin", "auditor"},
    "ListBulkResetJobs": {"admin", "auditor"},
}


async def variables(api: Api, name: str) -> dict[str, Any]:
    user = await api.enabled_user()
    return {
        "CheckConferenceId": {"userId": user["id"], "conferenceId": "8390146"},
        "LookupConferenceId": {"conferenceId": user["audioConferencing"]["conferenceId"]},
        "EnableAudioConferencing": {"input": {"userId": (await api.disabled_user())["id"]}},
        "ResetConferenceId": {"input": {"userId": user["id"]}},
        "SendConferenceInfo": {"input": {"userId": user["id"]}},
        "SetConferenceId": {"input": {"userId": user["id"], "conferenceId": "8390146"}},
        "ResendNotification": {"input": {"notificationId": "Tm90aWZpY2F0aW9uOm5fbm9uZQ"}},
        "UserEvidence": {"userId": user["id"]},
        "ConferenceIdHistory": {"id": user["id"]},
        "PreviewBulkReset": {"selection": {"emails": [user["email"]]}},
        "StartBulkReset": {"input": {"selection": {"userIds": [user["id"]]}, "reason": "leak"}},
        "CancelBulkReset": {"jobId": "QnVsa1Jlc2V0Sm9iOmpvYl9ub25l"},
        "BulkResetJob": {"jobId": "QnVsa1Jlc2V0Sm9iOmpvYl9ub25l"},
    }.get(name, {})


async def trail_length(api: Api) -> int:
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    return int(data["auditEvents"]["edges"][0]["node"]["sequence"])


@pytest.mark.parametrize("role", ["admin", "helpdesk", "auditor"])
@pytest.mark.parametrize("name", sorted(ALLOWED))
async def test_role_matrix(api: Api, role: str, name: str) -> None:
    before = await trail_length(api)
    result = await api.gql(operation(name), await variables(api, name), token=role)
    if role in ALLOWED[name]:
        assert "errors" not in result, result
    elif name == "ConferenceIdHistory":
        # A field the role may not read nulls that field only: the user stays visible.
        user = result["data"]["user"]
        assert user["displayName"] and user["conferenceIdHistory"] is None
        (error,) = result["errors"]
        assert error["path"] == ["user", "conferenceIdHistory"]
        assert error["extensions"]["code"] == "FORBIDDEN"
    else:
        assert not result["data"] or set(result["data"].values()) == {None}
        (error,) = result["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert role in error["message"]
        assert await trail_length(api) == before, "a refused request wrote to the trail"


async def test_viewer_names_the_token(api: Api) -> None:
    data = await api.data(operation("Viewer"), token="helpdesk")
    assert data["viewer"] == {
        "name": "helpdesk-1",
        "role": "HELPDESK",
        "issuer": None,
        "subject": None,
        "displayName": None,
    }


async def test_the_actor_and_origin_are_recorded(api: Api) -> None:
    user = await api.enabled_user()
    response = await api.post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": user["id"]}}},
        token="helpdesk",
        headers={"X-Request-Id": "ticket-4711", "User-Agent": "helpdesk-console/2"},
    )
    event = response.json()["data"]["resetConferenceId"]["auditEvent"]
    # confid's own request id answers and is recorded; the client's is kept beside it.
    request_id = response.headers["X-Request-Id"]
    assert request_id != "ticket-4711" and len(request_id) == 16
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    node = data["auditEvents"]["edges"][0]["node"]
    assert node["sequence"] == event["sequence"]
    assert node["actor"] == {
        "name": "helpdesk-1",
        "role": "HELPDESK",
        "issuer": None,
        "subject": None,
        "displayName": None,
    }
    assert node["sourceIp"] == "203.0.113.7"
    assert node["userAgent"] == "helpdesk-console/2"
    assert node["requestId"] == request_id
    assert node["clientRequestId"] == "ticket-4711"


async def test_seeding_is_recorded_as_system(api: Api) -> None:
    data = await api.data(operation("ListAuditEvents"), {"actor": "system", "first": 5})
    nodes = [e["node"] for e in data["auditEvents"]["edges"]]
    assert nodes and all(n["actor"]["role"] == "SYSTEM" and n["action"] == "ASSIGN" for n in nodes)

"""Roles (SPEC §3) as permission checks (app.api.permissions): what each may do; a
refused request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, operation
from tests.support.audit import trail_length

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

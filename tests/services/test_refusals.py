"""The one refusal path (app.services.refusals): every refused attempt is audited once."""

from __future__ import annotations

from tests.support.api import Api, operation
from tests.support.audit import make_history


async def test_rejections_are_audited_with_their_codes(api: Api) -> None:
    await make_history(api)
    data = await api.data(operation("ListAuditEvents"), {"outcome": "REJECTED", "first": 10})
    (node,) = [e["node"] for e in data["auditEvents"]["edges"]]
    assert node["action"] == "SET" and node["errorCodes"] == ["WRONG_LENGTH"]
    assert node["newConferenceId"] == "12"

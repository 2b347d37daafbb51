"""The embedded demo (app.services.seed): its users are enabled through the real change
path, as the system."""

from __future__ import annotations

from tests.support.api import Api, operation


async def test_seeding_is_recorded_as_system(api: Api) -> None:
    data = await api.data(operation("ListAuditEvents"), {"actor": "system", "first": 5})
    nodes = [e["node"] for e in data["auditEvents"]["edges"]]
    assert nodes and all(n["actor"]["role"] == "SYSTEM" and n["action"] == "ASSIGN" for n in nodes)

"""The outbox (app.services.outbox): delivery status is honest, a failing transport leaves
FAILED, not SENT or RECORDED."""

from __future__ import annotations

from typing import Any

from app.notify.transport import DeliveryResult, OutgoingEmail
from app.settings import Settings
from tests.support.api import make_api, operation


class BrokenTransport:
    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        raise ConnectionRefusedError("smtp down")


async def test_a_failing_transport_marks_the_email_failed(
    settings: Settings, raw_database: Any
) -> None:
    api = await make_api(settings, raw_database, transport=BrokenTransport())
    user = await api.enabled_user()
    data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    note = data["sendConferenceInfo"]["notification"]
    assert note["status"] == "FAILED"
    listed = await api.data(operation("ListNotifications"), {"userId": user["id"], "first": 1})
    stored = listed["notifications"]["edges"][0]["node"]
    assert stored["status"] == "FAILED" and "ConnectionRefusedError" in stored["error"]
    assert "smtp down" not in stored["error"]  # no transport internals in the record
    await api.client.aclose()

"""The app factory (app.main): its routes beside the API, such as the health checks."""

from __future__ import annotations

from tests.support.api import Api


async def test_health_checks(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}

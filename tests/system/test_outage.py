"""The database going away: a clear 503 with a request id, never a hang; then recovery."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.settings import Settings
from tests.support.api import make_api, operation
from tests.support.database import Outage, WrappedDatabase
from tests.support.invariants import assert_consistent


async def test_outage_is_503_and_the_service_recovers(
    settings: Settings, raw_database: Any
) -> None:
    switch = Outage()
    ticks = [0.0]  # the clock of /readyz's reuse of its last answer (and the rate limits)
    api = await make_api(
        replace(settings, recovery_grace_seconds=0),
        WrappedDatabase(raw_database, outage=switch),
        monotonic=lambda: ticks[0],
    )
    user = await api.enabled_user()
    reset = {
        "query": operation("ResetConferenceId"),
        "variables": {"input": {"userId": user["id"]}},
    }

    switch.down = True
    for body in (reset, {"query": operation("ListUsers")}):
        response = await api.post(body)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "INTERNAL"
        assert "database is unavailable" in error["message"]
        assert error["extensions"]["requestId"] in error["message"]
        assert "Traceback" not in response.text and "fake outage" not in response.text
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503
    assert (await api.client.get("/healthz")).status_code == 200

    switch.down = False
    assert (await api.client.get("/readyz")).status_code == 503  # answered a moment ago
    ticks[0] += 1.0  # /readyz pings again once its last answer is a second old
    assert (await api.client.get("/readyz")).status_code == 200
    await api.services.recovery.sweep()
    response = await api.post(reset)
    assert response.status_code == 200
    assert response.json()["data"]["resetConferenceId"]["userErrors"] == []
    await api.client.aclose()
    await assert_consistent(raw_database)


async def test_outage_in_the_middle_of_a_change(settings: Settings, raw_database: Any) -> None:
    """The server goes away after the commit point: the change is finished later, once."""
    switch = Outage()
    faulty = WrappedDatabase(raw_database, outage=switch)
    armed = False

    async def cut_after_commit(step: Any) -> None:
        nonlocal armed
        if step.value == "committed" and armed:
            armed = False
            switch.down = True

    api = await make_api(
        replace(settings, recovery_grace_seconds=0), faulty, fault=cut_after_commit
    )
    user = await api.enabled_user()
    armed = True
    response = await api.post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": user["id"]}}}
    )
    assert response.status_code == 503
    switch.down = False
    await api.services.recovery.sweep()
    await api.client.aclose()
    await assert_consistent(raw_database)
    events = (
        await raw_database.get_collection("audit_events")
        .find({"userId": user["id"].__class__ and None})
        .to_list(None)
    )
    assert events == []  # (the global id is not the stored id; see the check below)
    stored = (
        await raw_database.get_collection("audit_events")
        .find({"action": "RESET", "outcome": "SUCCESS"})
        .to_list(None)
    )
    assert len(stored) == 1

"""The conference-ID registry: one claim per ID, retirement for ever or for a quarantine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.store.registry import ConferenceIdRegistry, IdState

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def test_a_second_claim_is_refused(raw_database: Any) -> None:
    registry = ConferenceIdRegistry(raw_database, quarantine=None)
    assert await registry.claim("b", "8390146", "u1", "op1", NOW) is None
    taken = await registry.claim("b", "8390146", "u2", "op2", NOW)
    assert taken is not None and taken.user_id == "u1" and taken.state is IdState.RESERVED
    assert await registry.claim("other-bridge", "8390146", "u2", "op3", NOW) is None


async def test_retired_ids_stay_retired_without_a_quarantine(raw_database: Any) -> None:
    registry = ConferenceIdRegistry(raw_database, quarantine=None)
    await registry.claim("b", "8390146", "u1", "op1", NOW)
    await registry.activate("b", "8390146", "op1")
    await registry.retire("b", "8390146", NOW)
    later = NOW + timedelta(days=36500)
    taken = await registry.claim("b", "8390146", "u2", "op2", later)
    assert taken is not None and taken.state is IdState.RETIRED


async def test_a_quarantine_frees_retired_ids_when_it_ends(raw_database: Any) -> None:
    registry = ConferenceIdRegistry(raw_database, quarantine=timedelta(days=90))
    await registry.claim("b", "8390146", "u1", "op1", NOW)
    await registry.retire("b", "8390146", NOW)
    soon = await registry.claim("b", "8390146", "u2", "op2", NOW + timedelta(days=89))
    assert soon is not None and soon.state is IdState.RETIRED
    assert await registry.claim("b", "8390146", "u2", "op3", NOW + timedelta(days=91)) is None


async def test_release_drops_only_that_operations_reservation(raw_database: Any) -> None:
    registry = ConferenceIdRegistry(raw_database, quarantine=None)
    await registry.claim("b", "8390146", "u1", "op1", NOW)
    await registry.claim("b", "5550147", "u2", "op2", NOW)
    await registry.activate("b", "5550147", "op2")
    await registry.release("op1")
    await registry.release("op2")  # active: kept
    assert await registry.get("b", "8390146") is None
    kept = await registry.get("b", "5550147")
    assert kept is not None and kept.state is IdState.ACTIVE

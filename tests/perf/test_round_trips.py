"""Database round trips per GraphQL request: constant, never one per row (DataLoaders).

Counts are deterministic, so they are asserted exactly or as an upper bound; speed is not
(see `scripts/bench`). Each test seeds the demo, clears the log, sends one request and
reads the log of `tests/perf/counting.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.database import CallLog, WrappedDatabase

DEMO_USERS = 40  # more users than any constant below, so one read per user would show

USER_BY_ID = """query ($id: ID!) {
  user(id: $id) { id displayName email audioConferencing { conferenceId assignedAt } }
}"""

AUDIT_PAGE = """query ($userId: ID, $first: Int) {
  auditEvents(userId: $userId, first: $first) {
    edges { node { sequence action outcome user { id displayName } } }
  }
}"""

RESET_COST_CEILING = (
    8  # lock (reads the user), claim, commit, retire, activate, audit, record, unlock
)


@pytest.fixture
def settings(tokens_file: Path) -> Settings:
    return Settings(tokens_file=tokens_file, seed_demo=True, demo_users=DEMO_USERS)


@pytest.fixture
async def counted(settings: Settings, raw_database: Any) -> AsyncIterator[tuple[Api, Any]]:
    database = WrappedDatabase(raw_database, log=CallLog())
    api = await make_api(settings, database)
    try:
        yield api, database
    finally:
        await api.client.aclose()


async def _cost(
    api: Api, database: WrappedDatabase, query: str, variables: dict[str, Any]
) -> tuple[int, int, str]:
    """(reads, writes, description) of one request that must succeed."""
    database.log.clear()
    await api.data(query, variables)
    log = database.log
    return len(log.reads()), len(log.writes()), log.describe()


async def test_a_user_by_id_costs_one_read(counted: tuple[Api, WrappedDatabase]) -> None:
    api, database = counted
    user = await api.enabled_user()
    reads, writes, calls = await _cost(api, database, USER_BY_ID, {"id": user["id"]})
    assert (reads, writes) == (1, 0), f"user(id) with its conference ID made: {calls}"


async def test_a_user_by_id_with_bridge_and_numbers_costs_two_reads_at_most(
    counted: tuple[Api, WrappedDatabase],
) -> None:
    api, database = counted
    user = await api.enabled_user()
    variables = {"id": user["id"], "email": None}
    reads, writes, calls = await _cost(api, database, operation("GetUser"), variables)
    assert reads <= 2 and writes == 0, f"GetUser (user + bridge + dial-in numbers) made: {calls}"


async def test_a_page_of_users_with_conference_ids_and_bridge_costs_a_constant_few_reads(
    counted: tuple[Api, WrappedDatabase],
) -> None:
    api, database = counted
    query = operation("ListUsers")  # conference ID, bridge, toll and toll-free numbers
    small = await _cost(api, database, query, {"first": 5, "after": None, "search": None})
    full = await _cost(api, database, query, {"first": 100, "after": None, "search": None})
    assert full[0] <= 4 and full[1] == 0, f"users(first: 100) made: {full[2]}"
    assert full[0] <= small[0], (
        f"reads grow with the page size (N+1): first 5 made {small[2]}; first 100 made {full[2]}"
    )


USERS_WITH_LATEST = """query ($first: Int) {
  users(first: $first) {
    edges { node { id audioConferencing { conferenceId bridge { name } tollNumber }
                   latestAuditEvent { sequence action actor { name } } } }
  }
}"""


async def test_users_with_their_latest_audit_event_cost_a_constant_few_reads(
    counted: tuple[Api, WrappedDatabase],
) -> None:
    api, database = counted
    small = await _cost(api, database, USERS_WITH_LATEST, {"first": 5})
    full = await _cost(api, database, USERS_WITH_LATEST, {"first": 100})
    # Reading audit data writes exactly one access-log record, however many users.
    assert full[0] <= 4 and full[1] == 1, f"users(first: 100) + latest events made: {full[2]}"
    assert full[0] <= small[0], f"first 5 made {small[2]}; first 100 made {full[2]}"
    assert full[1] == small[1], f"first 5 made {small[2]}; first 100 made {full[2]}"


async def test_a_page_of_audit_events_with_their_users_costs_a_constant_few_reads(
    counted: tuple[Api, WrappedDatabase],
) -> None:
    api, database = counted
    small = await _cost(api, database, AUDIT_PAGE, {"userId": None, "first": 5})
    full = await _cost(api, database, AUDIT_PAGE, {"userId": None, "first": 35})
    assert full[0] <= 3, f"auditEvents(first: 35) with each entry's user made: {full[2]}"
    assert full[0] == small[0], (
        f"reads grow with the page size (N+1): first 5 made {small[2]}; first 35 made {full[2]}"
    )


async def test_a_reset_costs_a_bounded_number_of_round_trips(
    counted: tuple[Api, WrappedDatabase],
) -> None:
    api, database = counted
    user = await api.enabled_user()
    variables = {"input": {"userId": user["id"], "reason": "counted", "sendEmail": True}}
    database.log.clear()
    data = await api.data(operation("ResetConferenceId"), variables)
    assert data["resetConferenceId"]["userErrors"] == []
    trips = len(database.log.calls)
    assert trips <= RESET_COST_CEILING, (
        f"resetConferenceId made {trips} round trips (ceiling {RESET_COST_CEILING}): "
        f"{database.log.describe()}"
    )

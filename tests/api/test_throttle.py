"""Rate limits per caller (app.api.throttle) with the default buckets (issue 9, row 3 and
item 6): a flood of changes stops with 429 after a bounded number of audit entries; people
at a person's pace never meet the limit; the `rateLimit` field and refunds. The buckets'
clock is frozen, so nothing here depends on time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from app.api import throttle
from app.api.ids import encode_id
from app.domain.access import Principal
from app.domain.bucket import BucketSize
from app.domain.models import Role
from app.settings import DEFAULT_RATE_LIMITS, RateLimit, Settings
from tests.support.api import Api, make_api, operation


class FrozenClock:
    """The rate limits' monotonic clock, moved only by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def limited(settings: Settings, raw_database: Any, clock: FrozenClock) -> AsyncIterator[Api]:
    """confid with the default rate limits (the shared fixture's are vast)."""
    defaults = replace(
        settings,
        rate_limit_admin=DEFAULT_RATE_LIMITS["admin"],
        rate_limit_helpdesk=DEFAULT_RATE_LIMITS["helpdesk"],
        rate_limit_auditor=DEFAULT_RATE_LIMITS["auditor"],
        metrics=True,
    )
    api = await make_api(defaults, raw_database, monotonic=clock)
    try:
        yield api
    finally:
        await api.client.aclose()


async def trail(api: Api) -> list[dict[str, Any]]:
    """Every audit entry, read straight from the database (no bucket is touched)."""
    events = api.services.database.get_collection("audit_events")
    found: list[dict[str, Any]] = await events.find({}, {"outcome": 1}).to_list(None)
    return found


async def test_a_flood_of_resets_stops_before_the_trail(
    limited: Api, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Row 3: 3,000 resets of unknown users with a helpdesk token.
    before = len(await trail(limited))
    reset = operation("ResetConferenceId")
    statuses: list[int] = []
    with caplog.at_level(logging.WARNING, logger="confid.ratelimit"):
        for n in range(3000):
            unknown = encode_id("User", f"nobody-{n}")
            response = await limited.post(
                {"query": reset, "variables": {"input": {"userId": unknown}}}, token="helpdesk"
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                body = response.json()
                assert body["data"] is None
                assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
                assert int(response.headers["Retry-After"]) >= 1
                assert "cost" in body["extensions"]
    accepted = statuses.count(200)
    assert statuses.count(429) == 3000 - accepted
    assert statuses[:accepted] == [200] * accepted  # refused from the first refusal on
    # A reset costs 100 points plus its payload; the helpdesk bucket holds 1,000.
    assert 1 <= accepted <= DEFAULT_RATE_LIMITS["helpdesk"].points // 100
    entries = await trail(limited)
    assert len(entries) - before == accepted  # one REJECTED entry per accepted request
    assert all(e["outcome"] == "REJECTED" for e in entries[before:])
    # The refusals are counted in the log (one line, not 3,000), never in the trail.
    lines = [r.getMessage() for r in caplog.records if r.name == "confid.ratelimit"]
    assert len(lines) == 1 and "'helpdesk-1'" in lines[0]
    # ... and in the metrics an operator alerts on.
    from tests.support.scrape import Scrape

    scrape = Scrape.parse((await limited.client.get("/metrics")).text)
    throttled = scrape.value("confid_throttled_requests_total", limit="token_bucket")
    assert throttled == statuses.count(429)

    # Time restores the bucket: after Retry-After seconds one more change is accepted.
    response = await limited.post(
        {"query": reset, "variables": {"input": {"userId": encode_id("User", "x")}}}, "helpdesk"
    )
    clock.now += int(response.headers["Retry-After"])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="confid.ratelimit"):
        again = await limited.post(
            {"query": reset, "variables": {"input": {"userId": encode_id("User", "y")}}},
            "helpdesk",
        )
        assert again.status_code == 200
        # Served again within the minute of the last line: no new line yet ...
        assert not [r for r in caplog.records if r.name == "confid.ratelimit"]
        clock.now += 60
        later = await limited.post(
            {"query": reset, "variables": {"input": {"userId": encode_id("User", "z")}}},
            "helpdesk",
        )
    assert later.status_code == 200
    # ... then the refusals not logged yet are: all but the first, plus the probe.
    assert f": {3000 - accepted} request(s) throttled" in caplog.records[-1].getMessage()


async def test_alternating_refusals_and_service_log_once_a_minute(
    limited: Api, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller at the edge of its bucket, served and refused in turn, gets one log line a
    minute, not one per refusal."""
    viewer = {"query": "{ viewer { name } }"}
    statuses: list[int] = []
    with caplog.at_level(logging.WARNING, logger="confid.ratelimit"):
        while (await limited.post(viewer, token="helpdesk")).status_code != 429:
            pass  # drain the bucket (the clock is frozen)
        for _ in range(50):  # 2.5 s: one point refilled before each pair
            clock.now += 0.05
            statuses.append((await limited.post(viewer, token="helpdesk")).status_code)
            statuses.append((await limited.post(viewer, token="helpdesk")).status_code)
    assert statuses.count(200) >= 40 and statuses.count(429) >= 40  # they alternate
    lines = [r for r in caplog.records if r.name == "confid.ratelimit"]
    assert len(lines) == 1  # the first refusal's


async def test_other_tokens_keep_their_own_buckets(limited: Api) -> None:
    reset = operation("ResetConferenceId")
    unknown = {"input": {"userId": encode_id("User", "nobody")}}
    while (
        await limited.post({"query": reset, "variables": unknown}, "helpdesk")
    ).status_code != 429:
        pass
    assert (await limited.post({"query": "{ viewer { name } }"}, "admin")).status_code == 200
    assert (await limited.post({"query": "{ viewer { name } }"}, "auditor")).status_code == 200
    # What is left of the helpdesk bucket still pays for cheap reads, until it is empty;
    # then even a broken document is refused as THROTTLED: it is not even parsed.
    cheap = {"query": "{ viewer { name } }"}
    reads = 0
    while (await limited.post(cheap, "helpdesk")).status_code == 200:
        reads += 1
    assert reads < 100
    refused = await limited.post({"query": "{ viewer {"}, "helpdesk")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


async def test_check_conference_id_is_not_a_free_oracle(limited: Api) -> None:
    # Item 6: a dry run reveals IN_USE and RETIRED; each costs points, so guessing the
    # ID space through it is bounded by the bucket like anything else.
    user = await limited.enabled_user()
    checks = 0
    for guess in range(1_000_000, 1_001_000):
        response = await limited.post(
            {
                "query": operation("CheckConferenceId"),
                "variables": {"userId": user["id"], "conferenceId": str(guess)},
            },
            "helpdesk",
        )
        if response.status_code == 429:
            break
        checks += 1
    assert checks < 100  # of 1,000 tries, with the bucket never refilling


async def test_a_busy_session_on_the_admin_page_fits_without_refill(limited: Api) -> None:
    # What a helpdesk person does in a busy few minutes on the admin page (its own
    # queries, web/admin/api.js): page through users, open 20, check and reset 4 IDs.
    users_query = (
        "query AdminUsers($first: Int, $after: String, $search: String) { users(first: $first, "
        "after: $after, search: $search) { edges { node { id displayName email "
        "audioConferencing { conferenceId } } } pageInfo { hasNextPage endCursor } } }"
    )
    user_query = (
        "query AdminUser($id: ID!) { user(id: $id) { id displayName email audioConferencing "
        "{ conferenceId assignedAt tollNumber tollFreeNumber bridge { id name "
        "conferenceIdLength } } } }"
    )
    reset = (
        "mutation AdminResetConferenceId($input: ResetConferenceIdInput!) { resetConferenceId("
        "input: $input) { user { id audioConferencing { conferenceId bridge { id } } } "
        "auditEvent { id sequence action outcome actor { name role } } notification { id "
        "status } userErrors { field message code rule } } }"
    )
    seen: list[str] = []
    for _ in range(3):
        body = await limited.gql(users_query, {"first": 10}, token="helpdesk")
        assert "errors" not in body, body
        seen += [e["node"]["id"] for e in body["data"]["users"]["edges"]]
    for user_id in (seen * 2)[:20]:
        assert "errors" not in await limited.gql(user_query, {"id": user_id}, token="helpdesk")
    for user_id in seen[:4]:
        for digits in ("4", "48", "4821", "4821395"):
            check = await limited.gql(
                operation("CheckConferenceId"),
                {"userId": user_id, "conferenceId": digits},
                token="helpdesk",
            )
            assert "errors" not in check, check
        body = await limited.gql(reset, {"input": {"userId": user_id}}, token="helpdesk")
        assert "errors" not in body, body
    left = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    assert 0 < left < DEFAULT_RATE_LIMITS["helpdesk"].points


async def test_rate_limit_field_and_refunds(limited: Api) -> None:
    first = await limited.data(operation("RateLimit"), token="auditor")
    limit = first["rateLimit"]
    assert limit["limit"] == DEFAULT_RATE_LIMITS["auditor"].points
    assert limit["cost"] == 1 and limit["remaining"] == limit["limit"] - 1
    assert limit["restoreRate"] == DEFAULT_RATE_LIMITS["auditor"].per_second
    assert limit["resetAt"].endswith("Z")
    # A page of 100 users is charged 403 points up front; 12 came back, the rest is returned.
    body = await limited.gql(operation("ListUsers"), {"first": 100}, token="auditor")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 403 and cost["actualQueryCost"] < 100
    available = cost["throttleStatus"]["currentlyAvailable"]
    assert available == limit["remaining"] - cost["actualQueryCost"]


async def test_a_role_without_a_limit(settings: Settings, raw_database: Any) -> None:
    unlimited = replace(settings, rate_limit_auditor=None, rate_limit_admin=RateLimit(5, 1))
    api = await make_api(unlimited, raw_database)
    try:
        data = await api.data(operation("RateLimit"), token="auditor")
        assert data["rateLimit"] is None
        body = await api.gql("{ viewer { name } }", token="auditor")
        assert body["extensions"]["cost"]["throttleStatus"] is None
        # A cost over the token's whole bucket could never be served: too complex, at once.
        response = await api.post({"query": operation("ListUsers"), "variables": {}}, "admin")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["extensions"]["cost"]["maximumAvailable"] == 5
    finally:
        await api.client.aclose()


def test_buckets_belong_to_callers_not_names_or_roles() -> None:
    """A person and a static token with the same name never share a bucket; a caller whose
    role changes keeps what it spent (resized, never refilled)."""

    now = [0.0]
    sizes = {Role.HELPDESK: BucketSize(100, 1.0), Role.AUDITOR: BucketSize(200, 1.0)}
    limiter = throttle.RateLimiter(sizes, clock=lambda: now[0])
    token = Principal("dup", Role.HELPDESK)
    person = Principal("dup", Role.HELPDESK, "https://idp.example", "sub-1")
    assert limiter.take(token, 90) == 0.0
    assert limiter.take(person, 90) == 0.0  # its own bucket, full
    assert limiter.take(token, 20) > 0  # the token's is nearly empty
    same_person_as_auditor = Principal("dup", Role.AUDITOR, "https://idp.example", "sub-1")
    status = limiter.status(same_person_as_auditor)
    assert status is not None and (status.limit, status.remaining) == (200, 10)


def test_idle_buckets_are_forgotten_when_there_are_many(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(throttle, "MAX_IDLE_BUCKETS", 5)
    limiter = throttle.RateLimiter({Role.AUDITOR: BucketSize(10, 1.0)}, clock=lambda: 0.0)
    busy = Principal("busy", Role.AUDITOR, "https://idp.example", "busy")
    assert limiter.take(busy, 10) == 0.0
    for n in range(50):
        limiter.status(Principal(f"p{n}", Role.AUDITOR, "https://idp.example", f"s{n}"))
    assert len(limiter._buckets) <= 6
    assert limiter.take(busy, 1) > 0  # a bucket in use is never forgotten


@pytest.mark.parametrize(
    "document",
    [
        "{ viewer { name }",  # a syntax error
        "{ viewer { " + "name " * 2100 + "} }",  # over the token limit
    ],
)
async def test_documents_that_do_not_parse_cost_a_point(limited: Api, document: str) -> None:
    """Like any refused document: a flood of them meets the rate limit (1,000 points for
    helpdesk: the 1,001st is THROTTLED before it is parsed)."""
    bucket = DEFAULT_RATE_LIMITS["helpdesk"].points
    statuses = [(await limited.post({"query": document}, token="helpdesk")).status_code]
    assert statuses == [200]
    body = (await limited.post({"query": document}, token="helpdesk")).json()
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == bucket - 2
    for _ in range(int(bucket) - 2):
        await limited.post({"query": document}, token="helpdesk")
    refused = await limited.post({"query": document}, token="helpdesk")
    assert refused.status_code == 429


async def test_a_subscription_sent_over_http_costs_a_point(
    limited: Api, clock: FrozenClock
) -> None:
    """Refused (use the websocket) for a point like any refused document; with the bucket
    empty it is THROTTLED before it is parsed."""
    subscription = {"query": "subscription { auditEventAppended { sequence } }"}
    first = await limited.post(subscription, token="helpdesk")
    assert first.status_code == 400 and "websocket" in first.text
    status = await limited.post({"query": "{ rateLimit { remaining } }"}, token="helpdesk")
    remaining = status.json()["data"]["rateLimit"]["remaining"]
    assert remaining == DEFAULT_RATE_LIMITS["helpdesk"].points - 1 - 1  # the refusal, this
    for n in range(int(remaining)):
        await limited.post({"query": subscription["query"] + f" # {n}"}, token="helpdesk")
    refused = await limited.post(subscription, token="helpdesk")
    assert refused.status_code == 429 and refused.json()["errors"][0]["extensions"]["code"] == (
        "THROTTLED"
    )

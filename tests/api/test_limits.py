"""The documented request limits (app.api.limits): depth, aliases, tokens; subscriptions
pass the same cost rule (over a real websocket) and their start takes points."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.settings import RateLimit, Settings
from tests.support.api import TOKENS, Api, error_code, operation, response_codes
from tests.support.live import Connect, Instance, Live, enabled_user_ids, head
from tests.support.scrape import Scrape


async def test_depth_limit(api: Api) -> None:
    deepest = (  # depth 8: the deepest real path is allowed
        "{ notifications { edges { node { auditEvent { user { audioConferencing { bridge "
        "{ id } } } } } } } }"
    )
    assert "errors" not in await api.gql(deepest)
    # The schema has no real path deeper than 10, so the limit is shown on a deeper shape.
    query = "{ viewer " + "{ a " * 11 + "}" * 11 + " }"
    body = await api.gql(query)
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert "QUERY_TOO_COMPLEX" in codes
    assert any("depth" in e["message"] for e in body["errors"])


async def test_introspection_is_not_depth_limited(api: Api) -> None:
    from graphql import get_introspection_query

    body = await api.gql(get_introspection_query())
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_aliases_over_thirty_are_too_complex(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(31)) + " }"
    assert error_code(await api.gql(query)) == "QUERY_TOO_COMPLEX"
    query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(30)) + " }"
    assert "errors" not in await api.gql(query)


async def test_tokens_over_two_thousand_are_too_complex(api: Api) -> None:
    query = "{ viewer { " + "__typename " * 2100 + "} }"
    assert error_code(await api.gql(query)) == "QUERY_TOO_COMPLEX"


async def test_typename_floods_are_bounded(api: Api) -> None:
    flood = "{ " + "__typename " * 5000 + "}"
    assert error_code(await api.gql(flood)) == "QUERY_TOO_COMPLEX"
    aliased = "{ " + " ".join(f"t{i}: __typename" for i in range(500)) + " }"
    assert error_code(await api.gql(aliased)) == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ viewer { " + "__typename " * 2100 + "} }", "QUERY_TOO_COMPLEX"),
        ("{ viewer { name } }" + "\n# padding" * 2100, "QUERY_TOO_COMPLEX"),  # comments count
        ("{ viewer { ( " + "name " * 2100, "QUERY_TOO_COMPLEX"),  # broken, and over the limit
        ("{ viewer { name }", "BAD_REQUEST"),  # a syntax error under the limit
        ("{ viewer { name } }" + "\n# padding" * 1980, None),
    ],
)
async def test_the_token_limit_is_recognised_by_counting(
    api: Api, query: str, code: str | None
) -> None:
    body = await api.gql(query)
    assert response_codes(body) == ([code] if code else [])


# --- subscriptions: the same cost rule, and a start's points ----------------------------

SELECTION = (
    "user { conferenceIdHistory(first: 100) { edges { node { user { "
    "conferenceIdHistory(first: 100) { totalCount } } } } } }"
)
# Priced 1,615 by the cost rule: a page of 100 histories, each with a count, per event.
EXPENSIVE = f"subscription {{ auditEventAppended(afterSequence: 1) {{ sequence {SELECTION} }} }}"
AS_QUERY = f"{{ auditEvents(first: 1) {{ edges {{ node {{ sequence {SELECTION} }} }} }} }}"
CHEAP = "subscription { auditEventAppended { sequence } }"
REMAINING = "{ rateLimit { remaining } }"


async def _remaining(instance: Instance) -> int:
    data = await instance.data(REMAINING, token="auditor")
    remaining: int = data["rateLimit"]["remaining"]
    return remaining


async def test_a_subscription_over_the_maximum_cost_never_starts(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect
) -> None:
    """Refused at `subscribe` as a query is over HTTP (QUERY_TOO_COMPLEX with
    extensions.cost, a point taken); the socket stays open for documents within it."""
    settings = replace(live_settings, rate_limit_auditor=RateLimit(1000, 0.001))
    instance = await serve(settings, raw_database)
    watcher: Live = await live(instance, "auditor")
    before = await _remaining(instance)
    refused = await watcher.first(await watcher.subscribe(EXPENSIVE))
    assert refused["type"] == "error", refused
    (error,) = refused["payload"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == {"requestedQueryCost": 1615, "maximumAvailable": 100}
    over_http = await instance.client.post(
        "/graphql",
        json={"query": AS_QUERY},
        headers={"Authorization": f"Bearer {TOKENS['auditor']}"},
    )
    (http_error,) = over_http.json()["errors"]
    assert http_error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert set(error) == set(http_error)  # the same shape as over HTTP
    assert set(error["extensions"]) == set(http_error["extensions"])
    assert "at most 100 are allowed per subscription" in error["message"]

    start = await head(instance)
    sid = await watcher.subscribe(CHEAP)
    users = await enabled_user_ids(instance)
    await instance.data(operation("ResetConferenceId"), {"input": {"userId": users[0]}})
    (event,) = await watcher.events(sid, 1)  # the first message on the socket since
    assert event["data"]["auditEventAppended"]["sequence"] == start + 1
    # The refusal took 1 point, the cheap start 10, the HTTP refusal 1 and each
    # `rateLimit` query 1 (its own).
    assert await _remaining(instance) == before - 1 - 10 - 1 - 1


async def test_starting_a_subscription_takes_ten_points(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect
) -> None:
    settings = replace(live_settings, rate_limit_auditor=RateLimit(25, 0.001), metrics=True)
    instance = await serve(settings, raw_database)
    watcher: Live = await live(instance, "auditor")
    first, second = await watcher.subscribe(CHEAP), await watcher.subscribe(CHEAP)  # 25 → 5
    third = await watcher.first(await watcher.subscribe(CHEAP))
    assert third["type"] == "error", third
    (error,) = third["payload"]
    assert error["extensions"]["code"] == "THROTTLED"
    assert "lacks the 10 points a subscription costs" in error["message"]
    assert await _remaining(instance) == 5 - 1  # each start took 10; this query takes 1
    scrape = Scrape.parse((await instance.client.get("/metrics")).text)
    assert scrape.value("confid_throttled_requests_total", limit="token_bucket") == 1
    for sid in (first, second):  # both started: they deliver the next entry
        assert sid not in {m.get("id") for m in watcher.backlog}


HISTORY = (
    "subscription {{ auditEventAppended {{ sequence user {{ conferenceIdHistory(first: {n}) "
    "{{ edges {{ node {{ sequence }} }} }} }} }} }}"
)


async def test_a_subscription_may_cost_a_tenth_of_a_query(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect
) -> None:
    """Each event resolves the document again, uncharged: 100 points at most, where a query
    may cost 1,000. A history of 30 entries per event (75 points) starts; one of 100 (215
    points, which runs as a query over HTTP) is refused."""
    instance = await serve(live_settings, raw_database)
    watcher: Live = await live(instance, "auditor")
    refused = await watcher.first(await watcher.subscribe(HISTORY.format(n=100)))
    assert refused["type"] == "error", refused
    (error,) = refused["payload"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == {"requestedQueryCost": 215, "maximumAvailable": 100}
    as_query = (
        HISTORY.format(n=100)
        .replace("subscription {", "{")
        .replace("auditEventAppended {", "auditEvents(first: 1) { edges { node {")
        .removesuffix("} }")
        + "} } } }"
    )
    over_http = await instance.data(as_query, token="auditor")
    assert over_http["auditEvents"]["edges"]

    start = await head(instance)
    sid = await watcher.subscribe(HISTORY.format(n=30))
    users = await enabled_user_ids(instance)
    await instance.data(operation("ResetConferenceId"), {"input": {"userId": users[0]}})
    (event,) = await watcher.events(sid, 1)
    assert event["data"]["auditEventAppended"]["sequence"] == start + 1


async def test_refused_subscribes_cost_a_point_and_an_empty_bucket_parses_nothing(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A query sent over the socket (refused: BAD_REQUEST) costs 1 point like any refused
    request; once the bucket is empty, a subscribe is THROTTLED before it is parsed, so a
    flood of large refused documents costs the process nothing but the bucket check."""
    from app.api import live as live_module

    settings = replace(live_settings, rate_limit_auditor=RateLimit(4, 0.001), metrics=True)
    instance = await serve(settings, raw_database)
    watcher: Live = await live(instance, "auditor")
    parsed: list[str] = []
    real = live_module.parsed

    def counting(query: str) -> Any:
        parsed.append(query)
        return real(query)

    monkeypatch.setattr(live_module, "parsed", counting)
    for n in range(4):  # 4 points: 4 refusals
        query = f"{{ viewer {{ name }} }} # {n}"
        answer = await watcher.first(await watcher.subscribe(query))
        assert answer["type"] == "error"
        assert answer["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert len(parsed) == 4
    throttled = await watcher.first(await watcher.subscribe("{ viewer { name } } # 5"))
    assert throttled["payload"][0]["extensions"]["code"] == "THROTTLED"
    assert len(parsed) == 4  # not parsed
    scrape = Scrape.parse((await instance.client.get("/metrics")).text)
    assert scrape.value("confid_throttled_requests_total", limit="token_bucket") == 1


@pytest.mark.parametrize(
    "query",
    [
        "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(31)) + " }",  # aliases
        "query { viewer { ...F0 } } "  # fan-out fragments, 40 levels
        + " ".join(f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
        + " fragment F40 on Viewer { name }",
    ],
)
async def test_refusals_by_shape_carry_the_cost_figures_too(api: Api, query: str) -> None:
    """Like a refusal by points. (Over the token limit, the document is not priced at all:
    `requestedQueryCost` is null there, see the next test.)"""
    body = await api.gql(query)
    (error,) = [e for e in body["errors"] if e["extensions"]["code"] == "QUERY_TOO_COMPLEX"]
    cost = error["extensions"]["cost"]
    assert cost["maximumAvailable"] == 1000
    assert isinstance(cost["requestedQueryCost"], int) and cost["requestedQueryCost"] >= 1
    assert cost["requestedQueryCost"] <= 2**53 - 1
    assert body["extensions"]["cost"]["requestedQueryCost"] == cost["requestedQueryCost"]


async def test_a_subscribe_that_does_not_parse_is_answered_and_charged(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A syntax error gets an `error` naming it (BAD_REQUEST), for a point, and the socket
    stays open; a document over the token limit is QUERY_TOO_COMPLEX. Nothing is logged as
    an error: these are the client's mistakes."""
    import logging

    settings = replace(live_settings, rate_limit_auditor=RateLimit(1000, 0.001))
    instance = await serve(settings, raw_database)
    watcher: Live = await live(instance, "auditor")
    before = await _remaining(instance)
    broken = await watcher.first(await watcher.subscribe("subscription { auditEventAppended { "))
    assert broken["type"] == "error", broken
    assert broken["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Syntax Error" in broken["payload"][0]["message"]
    huge = "subscription { auditEventAppended { " + "sequence " * 2100 + "} }"
    over = await watcher.first(await watcher.subscribe(huge))
    assert over["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    unpriced = {"requestedQueryCost": None, "maximumAvailable": 100}
    assert over["payload"][0]["extensions"]["cost"] == unpriced
    aliases = (
        "subscription { auditEventAppended { "
        + " ".join(f"s{i}: sequence" for i in range(31))
        + " } }"
    )
    shaped = await watcher.first(await watcher.subscribe(aliases))
    (error,) = shaped["payload"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"]["maximumAvailable"] == 100
    assert await _remaining(instance) == before - 1 - 1 - 1 - 1  # three refusals, this query
    start = await head(instance)
    sid = await watcher.subscribe(CHEAP)  # the socket is still open
    users = await enabled_user_ids(instance)
    await instance.data(operation("ResetConferenceId"), {"input": {"userId": users[0]}})
    (event,) = await watcher.events(sid, 1)
    assert event["data"]["auditEventAppended"]["sequence"] == start + 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_document_over_the_token_limit_carries_the_maximum(api: Api) -> None:
    body = await api.gql("{ viewer { " + "name " * 2100 + "} }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == {"requestedQueryCost": None, "maximumAvailable": 1000}


async def test_the_cost_figures_of_a_refusal_are_each_callers_own(
    settings: Settings, raw_database: Any
) -> None:
    """The validation cache is shared: a refusal priced for a caller whose bucket is small
    must not tell the next caller that small maximum."""
    from tests.support.api import make_api

    small = replace(settings, rate_limit_helpdesk=RateLimit(300, 1))
    api = await make_api(small, raw_database)
    try:
        query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(31)) + " }"
        for token, maximum in (("helpdesk", 300), ("admin", 1000), ("helpdesk", 300)):
            body = await api.gql(query, token=token)
            (error,) = body["errors"]
            assert error["extensions"]["cost"]["maximumAvailable"] == maximum, token
    finally:
        await api.client.aclose()

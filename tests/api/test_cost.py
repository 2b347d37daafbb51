"""The cost model (issue 9, rows 1, 2 and 6): one linear walk refuses fragment bombs, alias
floods, deep and costly queries before anything runs, and every document that is not
valid is a BAD_REQUEST, never INTERNAL, with nothing logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import parse

from app.api.cost import analyse, page_values, scan_points
from app.api.schema import schema
from app.api.throttle import ApiLimits, TrailLength
from tests.support.api import Api, operation, response_codes


def fan_out(levels: int) -> str:
    """Row 1: each fragment spreads the next one twice; 2^levels copies of `name`."""
    fragments = " ".join(
        f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"query {{ viewer {{ ...F0 }} }} {fragments} fragment F{levels} on Viewer {{ name }}"


async def access_records(api: Api) -> int:
    count: int = await api.services.database.get_collection("audit_access_log").count_documents({})
    return count


def graphql_view(api: Api) -> Any:
    return next(r.app for r in api.app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]


@pytest.mark.parametrize("levels", [18, 60])
async def test_fan_out_fragments_are_refused(api: Api, levels: int) -> None:
    # On f9b370c, 18 levels took 0.8 s and were accepted; 60 never finished.
    body = await api.gql(fan_out(levels))
    assert response_codes(body) == ["QUERY_TOO_COMPLEX"] and body["data"] is None
    assert "fragments are expanded" in body["errors"][0]["message"]


def test_the_walk_is_linear_in_the_document() -> None:
    visits = {n: analyse(schema._schema, parse(fan_out(n))).visits for n in (15, 30, 45, 60)}
    steps = {visits[30] - visits[15], visits[45] - visits[30], visits[60] - visits[45]}
    assert len(steps) == 1, visits  # the same number of visits for every 15 more levels
    assert visits[60] < 10 * 60
    fields = analyse(schema._schema, parse(fan_out(60))).operations[None].fields
    assert fields >= 2**60  # counted with multiplicity, never walked that often


def test_alias_floods_and_deep_nesting_are_linear_too() -> None:
    aliases = "query { viewer { ...A0 } } " + " ".join(
        f"fragment A{i} on Viewer {{ a{i}: name ...A{i + 1} ...A{i + 1} }}" for i in range(40)
    )
    aliases += " fragment A40 on Viewer { name }"
    analysis = analyse(schema._schema, parse(aliases))
    assert analysis.operations[None].aliases > 30 and analysis.visits < 40 * 6
    deep = "query " + "{ viewer " * 200 + "}" * 200
    assert analyse(schema._schema, parse(deep)).operations[None].depth > 10


async def test_aliases_through_fragments_count_each_spread(api: Api) -> None:
    fragment = "fragment V on Query { " + " ".join(f"v{i}: viewer {{ name }}" for i in range(16))
    body = await api.gql("query { ...V ...W } " + fragment + " } fragment W on Query { ...V }")
    assert (
        response_codes(body) == ["QUERY_TOO_COMPLEX"] and "aliases" in body["errors"][0]["message"]
    )


async def test_depth_counts_through_fragments(api: Api) -> None:
    query = (
        "{ notifications { edges { node { ...N } } } } fragment N on Notification "
        "{ auditEvent { user { audioConferencing { bridge { id } } } } }"
    )
    assert response_codes(await api.gql(query)) == []
    too_deep = '{ node(id: "x") { ...D } } fragment D on AuditEvent { user { ...U } } '
    too_deep += "fragment U on User { latestAuditEvent { user { latestAuditEvent { user "
    too_deep += "{ latestAuditEvent { user { latestAuditEvent { user { id } } } } } } } } }"
    body = await api.gql(too_deep)
    assert response_codes(body) == ["QUERY_TOO_COMPLEX"] and "depth" in body["errors"][0]["message"]


async def test_nested_pages_are_refused_before_anything_runs(api: Api) -> None:
    # Row 2: a page of 100 users, each with a page of 100 history entries.
    before = await access_records(api)
    query = (
        "{ users(first: 100) { edges { node { id conferenceIdHistory(first: 100) "
        "{ edges { node { sequence actor { name } } } } } } } }"
    )
    body = await api.gql(query)
    assert response_codes(body) == ["QUERY_TOO_COMPLEX"] and body["data"] is None
    cost = body["errors"][0]["extensions"]["cost"]
    assert cost["maximumAvailable"] == 1000 and cost["requestedQueryCost"] > 10_000
    assert body["extensions"]["cost"]["requestedQueryCost"] == cost["requestedQueryCost"]
    assert await access_records(api) == before  # nothing ran, so no read was logged


async def test_pages_from_variables_are_priced_by_their_values(api: Api) -> None:
    query = (
        "query($n: Int, $m: Int = 100) { users(first: $n) { edges { node { id "
        "conferenceIdHistory(first: $m) { edges { node { sequence } } } } } } }"
    )
    small = await api.gql(query, {"n": 3, "m": 2})
    assert response_codes(small) == []
    # users' own read + its page + 3 x (edge + user + history's read and page + 2 x (edge +
    # entry))
    assert small["extensions"]["cost"]["requestedQueryCost"] == 2 + 3 * (1 + 1 + 2 + 1 + 2 * 2)
    assert response_codes(await api.gql(query, {"n": 50})) == [
        "QUERY_TOO_COMPLEX"
    ]  # $m defaults to 100
    default = await api.gql(query, {"m": 1})  # $n absent: a page of 20
    assert default["extensions"]["cost"]["requestedQueryCost"] == 2 + 20 * (1 + 1 + 2 + 1 + 2)


async def test_trail_scans_are_priced_by_the_trail_length(api: Api) -> None:
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    length = data["auditEvents"]["edges"][0]["node"]["sequence"]
    one = await api.gql("{ verifyAuditTrail { ok } }", token="auditor")
    assert one["extensions"]["cost"]["requestedQueryCost"] == 10 + 1 + scan_points(length, 1000)
    # Row 2: 30 aliases of verifyAuditTrail over a trail of ~3,100 entries.
    view = graphql_view(api)

    async def long_trail() -> int:
        return 3100

    view.limits = ApiLimits(view.limits.limiter, 1000, TrailLength(long_trail))
    flood = "{ " + " ".join(f"v{i}: verifyAuditTrail {{ ok }}" for i in range(30)) + " }"
    before = await access_records(api)
    body = await api.gql(flood, token="auditor")
    assert response_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["cost"]["requestedQueryCost"] == 30 * (11 + 310)
    assert await access_records(api) == before
    alone = await api.gql("{ verifyAuditTrail { ok } }", token="auditor")
    assert response_codes(alone) == [] and alone["data"]["verifyAuditTrail"]["ok"] is True


async def test_one_evidence_pack_always_fits(api: Api) -> None:
    view = graphql_view(api)

    async def huge_trail() -> int:
        return 10_000_000

    view.limits = ApiLimits(view.limits.limiter, 1000, TrailLength(huge_trail))
    user = await api.enabled_user()
    body = await api.gql(operation("UserEvidence"), {"userId": user["id"]}, token="auditor")
    assert response_codes(body) == [] and body["extensions"]["cost"]["requestedQueryCost"] <= 1000


async def test_introspection_costs_a_flat_fee_and_no_depth(api: Api) -> None:
    from graphql import get_introspection_query

    body = await api.gql(get_introspection_query())  # what GraphiQL sends on load
    assert response_codes(body) == [] and body["extensions"]["cost"]["requestedQueryCost"] == 200
    one_type = await api.gql('{ __type(name: "User") { fields { name } } }')
    assert one_type["extensions"]["cost"]["requestedQueryCost"] == 10


async def test_many_whole_schema_walks_in_one_request_are_refused(api: Api) -> None:
    """Aliased `__schema`s each walk the whole schema (issue 9: no cheap way to make the
    process work hard): five fit in the maximum cost, six do not."""
    walk = "{ types { name fields { name args { name } type { name ofType { name } } } } }"
    five = "{ " + " ".join(f"s{n}: __schema {walk}" for n in range(5)) + " }"
    six = "{ " + " ".join(f"s{n}: __schema {walk}" for n in range(6)) + " }"
    assert response_codes(await api.gql(five)) == []
    refused = await api.gql(six)
    assert response_codes(refused) == ["QUERY_TOO_COMPLEX"] and refused.get("data") is None


INVALID = [
    "{ viewer { ...Nope } }",  # row 6
    "{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }",
    "{ viewer { ... on Nope { name } } }",
    "{ viewer { ...S } } fragment S on String { length }",
    "{ viewer { ...U } } fragment U on User { id }",
    '{ users(first: "ten") { edges { cursor } } }',
    "query { users(first: $undefined) { edges { cursor } } }",
    "query A { viewer { name } } query A { viewer { role } }",
    "query A { viewer { name } } query B { viewer { role } }",
    "{ viewer { name @nope } }",
    "{ users(nope: 1) { edges { cursor } } }",
    "{ nope { deeper { still } } }",
    "fragment F on Viewer { name }",
    "{ viewer { name } } fragment F on Viewer { name } fragment F on Viewer { role }",
    "{ viewer }",
    "{ viewer { name { x } } }",
    "{ __type { name } }",
    "{ node(id: 5) { ... on Bridge { users(first: 3) { edges { cursor } } } } }",
]


@pytest.mark.parametrize("query", INVALID)
async def test_invalid_documents_are_bad_requests_and_not_logged(
    api: Api, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="confid"):
        response = await api.post({"query": query})
    assert response.status_code in (200, 400)
    assert set(response_codes(response.json())) == {"BAD_REQUEST"}, response.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_page_values_are_small_whatever_was_sent() -> None:
    """What the cache of priced operations is keyed by: the values pricing reads, never
    the raw variables (an 8 MiB string as `first` would otherwise be kept, 256 times)."""
    sent = {"huge": "x" * 1_000_000, "big": 500, "low": -3, "none": None, "flag": True}
    names = frozenset({*sent, "unset"})
    assert page_values(sent, names) == {
        "big": 100,
        "flag": 100,
        "huge": 100,
        "low": 0,
        "none": None,
    }


async def test_the_price_cache_key_holds_no_raw_variable(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import limits

    keys: list[str] = []
    real = limits._priced

    def spy(*args: Any) -> Any:
        keys.append(args[-1])
        return real(*args)

    monkeypatch.setattr(limits, "_priced", spy)
    query = "query Q($n: Int) { users(first: $n) { edges { node { id } } } }"
    body = await api.gql(query, {"n": "x" * 200_000})
    assert response_codes(body) == ["BAD_REQUEST"]  # not an Int: refused by coercion
    assert keys and max(len(key) for key in keys) < 100

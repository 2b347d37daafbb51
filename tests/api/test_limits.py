"""The documented request limits (app.api.limits): depth, aliases, tokens."""

from __future__ import annotations

import pytest

from tests.support.api import Api, error_code, response_codes


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

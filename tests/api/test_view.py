"""HTTP-level behaviour: auth, bad bodies, limits, GraphiQL, health checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import TOKENS, Api, operation


def code(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    result: str = error["extensions"]["code"]
    return result


async def trail_length(api: Api) -> int:
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    return int(data["auditEvents"]["edges"][0]["node"]["sequence"])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"},
     {"Authorization": "Bearer "}, {"Authorization": f"Token {TOKENS['admin']}"}],
)  # fmt: skip
async def test_missing_or_unknown_token_is_401(api: Api, headers: dict[str, str]) -> None:
    before = await trail_length(api)
    user = await api.enabled_user()
    response = await api.client.post(
        "/graphql",
        json={
            "query": operation("ResetConferenceId"),
            "variables": {"input": {"userId": user["id"]}},
        },
        headers=headers,
    )
    assert response.status_code == 401
    assert code(response.json()) == "UNAUTHENTICATED"
    assert response.json()["data"] is None
    assert await trail_length(api) == before


async def test_token_in_the_query_string_is_refused(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": "{ viewer { name } }", "access_token": TOKENS["admin"]}
    )
    assert response.status_code == 401
    assert "query string" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"null", 400),
        (b"42", 400),
        (b'[{"query": "{ viewer { name } }"}]', 400),
        (b'{"query": "{ viewer { name } }"}\xff\xfe', 400),
        (b"[" * 5000 + b"]" * 5000, 400),
        (b'{"query": 5}', 400),
        (b'{"query": "{ viewer { name } }", "variables": [1]}', 400),
    ],
)
async def test_malformed_bodies_are_bad_requests(api: Api, content: bytes, status: int) -> None:
    response = await api.client.post(
        "/graphql",
        content=content,
        headers={"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert code(response.json()) == "BAD_REQUEST"


async def test_wrong_content_type_says_what_to_send(api: Api) -> None:
    """`curl -d` sends form encoding: the answer names the content type that works."""
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await api.client.post(
            "/graphql",
            content=b"query { viewer { name } }",
            headers={"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": content_type},
        )
        assert response.status_code == 415 and code(response.json()) == "BAD_REQUEST"
        assert "application/json" in response.json()["errors"][0]["message"]


async def test_several_operations_need_an_operation_name(api: Api) -> None:
    """The GraphQL spec: with two operations and no operationName, nothing runs."""
    document = """query A { viewer { name } }
        mutation B { createAuditCheckpoint { checkpoint { sequence } } }"""
    before = await api.services.database.get_collection("audit_checkpoints").count_documents({})
    body = (await api.post({"query": document})).json()
    assert body["data"] is None and code(body) == "BAD_REQUEST"
    assert body["errors"][0]["message"].startswith("Must provide operation name")
    after = await api.services.database.get_collection("audit_checkpoints").count_documents({})
    assert after == before
    chosen = (await api.post({"query": document, "operationName": "A"})).json()
    assert chosen["data"] == {"viewer": {"name": "admin-1"}}


GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_graphql_response_json_answers_4xx_for_documents_never_executed(api: Api) -> None:
    """GraphQL over HTTP: with `Accept: application/graphql-response+json`, a document that
    does not parse or validate is a 400; once execution began it is a 200, as with
    `application/json`, which keeps its classic behaviour (200 for GraphQL errors)."""
    modern = {"Accept": GRAPHQL_RESPONSE}
    for document in ("{ viewer { name }", "{ viewer { nope } }", "{ ...Missing }"):
        answer = await api.post({"query": document}, headers=modern)
        assert answer.status_code == 400, document
        assert answer.headers["Content-Type"].startswith(GRAPHQL_RESPONSE)
        assert code(answer.json()) == "BAD_REQUEST"
        classic = await api.post({"query": document})
        assert classic.status_code == 200 and classic.headers["Content-Type"].startswith(
            "application/json"
        )
    executed = await api.post({"query": "{ auditEvents { totalCount } }"}, "helpdesk", modern)
    assert executed.status_code == 200 and code(executed.json()) == "FORBIDDEN"
    fine = await api.post({"query": "{ viewer { name } }"}, headers=modern)
    assert fine.status_code == 200 and fine.headers["Content-Type"].startswith(GRAPHQL_RESPONSE)
    both = await api.post(
        {"query": "{ nope }"}, headers={"Accept": f"application/json, {GRAPHQL_RESPONSE};q=0.5"}
    )
    assert both.status_code == 200  # application/json preferred: the classic answer


async def test_body_over_one_mebibyte_is_413(api: Api) -> None:
    response = await api.post({"query": "{ viewer { name } }", "pad": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert code(response.json()) == "BAD_REQUEST"


async def test_mutation_over_get_is_refused(api: Api) -> None:
    user = await api.enabled_user()
    response = await api.client.get(
        "/graphql",
        params={"query": f'mutation {{ resetConferenceId(input: {{userId: "{user["id"]}"}}) '
                         "{ userErrors { code } } }"},
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
    )  # fmt: skip
    assert response.status_code in (400, 405)
    assert code(response.json()) == "BAD_REQUEST"


async def test_queries_over_get_work(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {TOKENS['auditor']}"},
    )
    body = response.json()
    assert body["data"] == {"viewer": {"role": "AUDITOR"}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1


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
    assert code(await api.gql(query)) == "QUERY_TOO_COMPLEX"
    query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(30)) + " }"
    assert "errors" not in await api.gql(query)


async def test_tokens_over_two_thousand_are_too_complex(api: Api) -> None:
    query = "{ viewer { " + "__typename " * 2100 + "} }"
    assert code(await api.gql(query)) == "QUERY_TOO_COMPLEX"


async def test_validation_errors_keep_their_message(api: Api) -> None:
    body = await api.gql("{ viewer { nope } }")
    assert code(body) == "BAD_REQUEST"
    assert "nope" in body["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_out_of_range(api: Api, first: int) -> None:
    body = await api.gql(operation("ListUsers"), {"first": first})
    assert code(body) == "BAD_REQUEST"


@pytest.mark.parametrize("after", ["garbage", '{"$gt": ""}', "WyJhdWRpdCIsNV0"])
async def test_foreign_cursors_are_bad_requests(api: Api, after: str) -> None:
    body = await api.gql(operation("ListUsers"), {"after": after})
    assert code(body) == "BAD_REQUEST"


async def test_invalid_global_id_in_a_query(api: Api) -> None:
    assert code(await api.gql(operation("GetUser"), {"id": '{"$ne": null}'})) == "BAD_REQUEST"


async def test_injection_looking_search_matches_literally(api: Api) -> None:
    for search in ['{"$ne": null}', ".*", "$where", "a|b"]:
        data = await api.data(operation("ListUsers"), {"search": search})
        assert data["users"]["edges"] == []


async def test_graphiql_page_needs_no_token(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health_checks(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}


async def test_an_expired_token_is_401(api: Api, tmp_path: Any) -> None:
    from app.services.tokens import TokenRegistry, hash_token

    path = tmp_path / "expired.toml"
    path.write_text(
        f'[[tokens]]\nname = "gone"\nrole = "admin"\nsha256 = "{hash_token("old-token")}"\n'
        "expires = 2020-01-01\n"
    )
    api.app.state.authenticator.tokens = TokenRegistry.from_file(path)
    response = await api.post({"query": "{ viewer { name } }"}, token="old-token")
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]
    assert response.headers["www-authenticate"] == 'Bearer realm="confid", error="invalid_token"'


async def test_typename_floods_are_bounded(api: Api) -> None:
    flood = "{ " + "__typename " * 5000 + "}"
    assert code(await api.gql(flood)) == "QUERY_TOO_COMPLEX"
    aliased = "{ " + " ".join(f"t{i}: __typename" for i in range(500)) + " }"
    assert code(await api.gql(aliased)) == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "a\\udc00b"])
async def test_unpaired_surrogates_are_bad_requests(api: Api, escape: str) -> None:
    user = await api.enabled_user()
    template = json.dumps(
        {"query": operation("ResetConferenceId"),
         "variables": {"input": {"userId": user["id"], "reason": "REASON"}}}
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"}
    before = await trail_length(api)
    body = template.replace("REASON", escape).encode()
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400 and code(response.json()) == "BAD_REQUEST"
    assert await trail_length(api) == before
    paired = template.replace("REASON", "\\ud83d\\ude00").encode()  # an emoji is fine
    ok = await api.client.post("/graphql", content=paired, headers=headers)
    assert ok.json()["data"]["resetConferenceId"]["userErrors"] == []


@pytest.mark.parametrize(
    "value", ["nope", 5, "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"]
)
async def test_bad_datetimes_are_bad_requests(api: Api, value: Any) -> None:
    body = await api.gql(operation("ListAuditEvents"), {"from": value})
    assert code(body) == "BAD_REQUEST" and "DateTime" in body["errors"][0]["message"]
    literal = await api.gql('{ auditEvents(from: "nope") { edges { cursor } } }')
    assert code(literal) == "BAD_REQUEST"


async def test_out_of_range_export_times_and_cursors(api: Api) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    for params in ({"from": "9999-12-31T23:00:00-05:00"}, {"to": "0001-01-01T00:00:00+01:00"}):
        response = await api.client.get("/audit/export", params=params, headers=headers)
        assert response.status_code == 400
    from app.api.pagination import encode_cursor

    for key in (10**30, 0, -5):
        body = await api.gql(operation("ListAuditEvents"), {"after": encode_cursor("audit", [key])})
        assert code(body) == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("headers", "hint"),
    [({}, "paste your token"), ({"Authorization": "Bearer "}, "paste your token"),
     ({"Authorization": "Bearer"}, "paste your token"),
     ({"Authorization": "Basic abc"}, "must read `Bearer <token>`"),
     ({"Authorization": "test-admin-token"}, "must read `Bearer <token>`")],
)  # fmt: skip
async def test_a_request_without_a_token_is_told_to_paste_one(
    api: Api, headers: dict[str, str], hint: str
) -> None:
    response = await api.client.post(
        "/graphql", json={"query": operation("Viewer")}, headers=headers
    )
    assert response.status_code == 401
    message = response.json()["errors"][0]["message"]
    assert hint in message and "alformed" not in message
    assert "test-admin-token" not in message  # a token sent without `Bearer ` is not echoed

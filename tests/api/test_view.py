"""The HTTP side of /graphql (app.api.view): what to send and how, operation names, GET for
queries only, validation messages, GraphiQL without a token, no subscriptions over HTTP."""

from __future__ import annotations

import pytest

from tests.support.api import (
    OPERATION_NAMES,
    TOKENS,
    Api,
    error_code,
    is_subscription,
    operation,
)


async def test_wrong_content_type_says_what_to_send(api: Api) -> None:
    """`curl -d` sends form encoding: the answer names the content type that works."""
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await api.client.post(
            "/graphql",
            content=b"query { viewer { name } }",
            headers={"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": content_type},
        )
        assert response.status_code == 415 and error_code(response.json()) == "BAD_REQUEST"
        assert "application/json" in response.json()["errors"][0]["message"]


async def test_several_operations_need_an_operation_name(api: Api) -> None:
    """The GraphQL spec: with two operations and no operationName, nothing runs."""
    document = """query A { viewer { name } }
        mutation B { createAuditCheckpoint { checkpoint { sequence } } }"""
    before = await api.services.database.get_collection("audit_checkpoints").count_documents({})
    body = (await api.post({"query": document})).json()
    assert body["data"] is None and error_code(body) == "BAD_REQUEST"
    assert body["errors"][0]["message"].startswith("Must provide operation name")
    after = await api.services.database.get_collection("audit_checkpoints").count_documents({})
    assert after == before
    chosen = (await api.post({"query": document, "operationName": "A"})).json()
    assert chosen["data"] == {"viewer": {"name": "admin-1"}}


async def test_mutation_over_get_is_refused(api: Api) -> None:
    user = await api.enabled_user()
    response = await api.client.get(
        "/graphql",
        params={"query": f'mutation {{ resetConferenceId(input: {{userId: "{user["id"]}"}}) '
                         "{ userErrors { code } } }"},
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
    )  # fmt: skip
    assert response.status_code in (400, 405)
    assert error_code(response.json()) == "BAD_REQUEST"


async def test_queries_over_get_work(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {TOKENS['auditor']}"},
    )
    body = response.json()
    assert body["data"] == {"viewer": {"role": "AUDITOR"}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1


async def test_validation_errors_keep_their_message(api: Api) -> None:
    body = await api.gql("{ viewer { nope } }")
    assert error_code(body) == "BAD_REQUEST"
    assert "nope" in body["errors"][0]["message"]


async def test_graphiql_page_needs_no_token(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize("name", [n for n in OPERATION_NAMES if is_subscription(n)])
async def test_subscriptions_are_refused_over_http(api: Api, name: str) -> None:
    response = await api.post({"query": operation(name)})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "websocket" in response.json()["errors"][0]["message"]

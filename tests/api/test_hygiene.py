"""HTTP hygiene (issue 9, row 8): no sniffing and no caching of API answers, a Bearer
challenge on every 401, and token-like query parameters refused whatever their case."""

from __future__ import annotations

import pytest

from tests.support.api import TOKENS, Api, operation

ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def assert_api_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


async def test_graphql_answers_are_neither_sniffed_nor_cached(api: Api) -> None:
    answers = [
        await api.post({"query": "{ viewer { name } }"}),
        await api.client.get("/graphql", params={"query": "{ viewer { name } }"}, headers=ADMIN),
        await api.post({"query": "{ viewer { nope } }"}),
        await api.post({"query": "{ viewer { name } }"}, token=None),
        await api.client.post("/graphql", content=b"{nope", headers=ADMIN),
        await api.client.put("/graphql", headers=ADMIN),
        await api.client.get("/graphql", headers={"Accept": "text/html"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 415, 405, 200]
    for answer in answers:
        assert_api_headers(answer)


async def test_audit_answers_are_neither_sniffed_nor_cached(api: Api) -> None:
    auditor = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    answers = [
        await api.client.get("/audit/export", headers=auditor),
        await api.client.get("/audit/export"),
        await api.client.get("/audit/export", params={"format": "xml"}, headers=auditor),
        await api.client.get("/audit/public-key"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 400, 200]
    for answer in answers:
        assert_api_headers(answer)


async def test_every_401_challenges_for_a_bearer_token(api: Api) -> None:
    refusals = [
        await api.client.get("/audit/export"),
        await api.client.get("/audit/export", headers={"Authorization": "Bearer nope"}),
        await api.post({"query": "{ viewer { name } }"}, token="nope"),
        await api.client.get("/graphql", params={"query": "{ viewer { name } }"}),
    ]
    for refusal in refusals:
        assert refusal.status_code == 401
        assert refusal.headers["WWW-Authenticate"].startswith("Bearer")
        assert refusal.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "name", ["access_token", "Access_Token", "ACCESS_TOKEN", "access-token", "accessToken",
             "Token", "api_key", "apiKey", "API-KEY", "Authorization", "jwt"],
)  # fmt: skip
async def test_token_like_query_parameters_are_refused_in_any_case(api: Api, name: str) -> None:
    query = {"query": "{ viewer { name } }", name: TOKENS["admin"]}
    response = await api.client.get("/graphql", params=query, headers=ADMIN)
    assert response.status_code == 401 and "query string" in response.text
    auditor = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    export = await api.client.get("/audit/export", params={name: "x"}, headers=auditor)
    assert export.status_code == 401


async def test_ordinary_query_parameters_still_work(api: Api) -> None:
    params = {"query": operation("Viewer"), "operationName": "Viewer", "variables": "{}"}
    response = await api.client.get("/graphql", params=params, headers=ADMIN)
    assert response.status_code == 200 and response.json()["data"]["viewer"]["name"] == "admin-1"


async def test_an_undeclared_oversized_body_is_drained_then_413(api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(17):
            yield b" " * 65536  # 1.06 MiB in all, with no Content-Length

    response = await api.client.post(
        "/graphql", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

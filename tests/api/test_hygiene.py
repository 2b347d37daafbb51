"""HTTP hygiene (app.api.hygiene; issue 9, row 8): no sniffing and no caching of API answers,
and a Bearer challenge on every 401."""

from __future__ import annotations

from tests.support.api import ADMIN, TOKENS, Api


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

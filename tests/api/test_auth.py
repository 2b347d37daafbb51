"""Bearer-token authentication of a request (app.api.auth)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import ADMIN, TOKENS, Api, error_code, operation
from tests.support.audit import trail_length


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
    assert error_code(response.json()) == "UNAUTHENTICATED"
    assert response.json()["data"] is None
    assert await trail_length(api) == before


async def test_token_in_the_query_string_is_refused(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": "{ viewer { name } }", "access_token": TOKENS["admin"]}
    )
    assert response.status_code == 401
    assert "query string" in response.json()["errors"][0]["message"]


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

"""Reading a /graphql request body (app.api.body): bounded in size, strict JSON, valid Unicode."""

from __future__ import annotations

import json

import pytest

from tests.support.api import ADMIN, TOKENS, Api, error_code, operation
from tests.support.audit import trail_length


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
    assert error_code(response.json()) == "BAD_REQUEST"


async def test_body_over_one_mebibyte_is_413(api: Api) -> None:
    response = await api.post({"query": "{ viewer { name } }", "pad": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert error_code(response.json()) == "BAD_REQUEST"


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
    assert response.status_code == 400 and error_code(response.json()) == "BAD_REQUEST"
    assert await trail_length(api) == before
    paired = template.replace("REASON", "\\ud83d\\ude00").encode()  # an emoji is fine
    ok = await api.client.post("/graphql", content=paired, headers=headers)
    assert ok.json()["data"]["resetConferenceId"]["userErrors"] == []


async def test_an_undeclared_oversized_body_is_drained_then_413(api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(17):
            yield b" " * 65536  # 1.06 MiB in all, with no Content-Length

    response = await api.client.post(
        "/graphql", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

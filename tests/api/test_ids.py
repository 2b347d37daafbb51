"""Opaque global ids (app.api.ids)."""

from __future__ import annotations

from tests.support.api import Api, error_code, operation


async def test_invalid_global_id_in_a_query(api: Api) -> None:
    assert error_code(await api.gql(operation("GetUser"), {"id": '{"$ne": null}'})) == "BAD_REQUEST"

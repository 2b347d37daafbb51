"""Relay connection arguments (app.api.pagination): `first` bounds, opaque cursors."""

from __future__ import annotations

import pytest

from tests.support.api import Api, error_code, operation


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_out_of_range(api: Api, first: int) -> None:
    body = await api.gql(operation("ListUsers"), {"first": first})
    assert error_code(body) == "BAD_REQUEST"


@pytest.mark.parametrize("after", ["garbage", '{"$gt": ""}', "WyJhdWRpdCIsNV0"])
async def test_foreign_cursors_are_bad_requests(api: Api, after: str) -> None:
    body = await api.gql(operation("ListUsers"), {"after": after})
    assert error_code(body) == "BAD_REQUEST"


def test_page_sizes_declare_their_default_in_the_schema() -> None:
    from app.api.schema import schema

    sdl = schema.as_str()
    assert "first: Int = null" not in sdl
    assert sdl.count("first: Int = 20") >= 6

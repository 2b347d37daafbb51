"""Relay connections (app.api.connections): pages follow the connection specification."""

from __future__ import annotations

from tests.support.api import Api


async def test_pages_follow_the_relay_connection_spec(api: Api) -> None:
    query = """query($after: String) { users(first: 3, after: $after) {
        edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    first = (await api.data(query, {"after": None}))["users"]
    info = first["pageInfo"]
    assert info["hasPreviousPage"] is False and info["hasNextPage"] is True
    assert info["startCursor"] == first["edges"][0]["cursor"]
    assert info["endCursor"] == first["edges"][-1]["cursor"]
    second = (await api.data(query, {"after": info["endCursor"]}))["users"]["pageInfo"]
    assert second["hasPreviousPage"] is True

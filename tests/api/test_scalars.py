"""The DateTime scalar (app.api.scalars)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, error_code, operation


@pytest.mark.parametrize(
    "value", ["nope", 5, "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"]
)
async def test_bad_datetimes_are_bad_requests(api: Api, value: Any) -> None:
    body = await api.gql(operation("ListAuditEvents"), {"from": value})
    assert error_code(body) == "BAD_REQUEST" and "DateTime" in body["errors"][0]["message"]
    literal = await api.gql('{ auditEvents(from: "nope") { edges { cursor } } }')
    assert error_code(literal) == "BAD_REQUEST"

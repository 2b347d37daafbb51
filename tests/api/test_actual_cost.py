"""The actual cost of an executed operation (app.api.actual_cost), in every response."""

from __future__ import annotations

from tests.support.api import Api, operation


async def test_every_response_carries_its_cost(api: Api) -> None:
    body = await api.gql(operation("ListUsers"), {"first": 100})
    cost = body["extensions"]["cost"]
    # users' read, its page, 100 x (edge, user, ID, bridge), pageInfo
    assert cost["requestedQueryCost"] == 1 + 1 + 100 * 4 + 1
    users = len(body["data"]["users"]["edges"])
    enabled = sum(1 for e in body["data"]["users"]["edges"] if e["node"]["audioConferencing"])
    assert cost["actualQueryCost"] == 2 + 2 * users + 2 * enabled + 1  # what came back
    status = cost["throttleStatus"]
    assert set(status) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}

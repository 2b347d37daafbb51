"""Where a change came from is true: the TCP peer unless it is a trusted proxy, and
confid's own request id beside the client's (issue 9, item 3)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from app.settings import Settings
from tests.support.api import Api, make_api, operation

LATEST = """{ auditEvents(first: 1) { edges { node {
    sourceIp requestId clientRequestId } } } }"""


async def reset_with(api: Api, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    user = await api.enabled_user()
    response = await api.post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": user["id"]}}},
        headers=headers,
    )
    assert response.json()["data"]["resetConferenceId"]["userErrors"] == []
    node = (await api.data(LATEST))["auditEvents"]["edges"][0]["node"]
    return node, response.headers["X-Request-Id"]


async def test_forwarded_headers_are_not_believed_by_default(api: Api) -> None:
    node, request_id = await reset_with(
        api, {"X-Forwarded-For": "198.51.100.66", "X-Request-Id": "victim-request-0001"}
    )
    assert node["sourceIp"] == "203.0.113.7"  # the TCP peer of the test client
    assert node["requestId"] == request_id != "victim-request-0001"
    assert node["clientRequestId"] == "victim-request-0001"


async def test_a_trusted_proxy_forwards_the_client_address(
    settings: Settings, raw_database: Any
) -> None:
    proxies = (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("10.0.0.0/8"))
    api = await make_api(replace(settings, trusted_proxies=proxies), raw_database)
    # The right-most address that is not itself a trusted proxy is the client.
    node, _ = await reset_with(api, {"X-Forwarded-For": "192.0.2.1, 198.51.100.9, 10.1.2.3"})
    assert node["sourceIp"] == "198.51.100.9"
    # A hop that is not an address makes the whole header untrustworthy: the peer is kept.
    node, _ = await reset_with(api, {"X-Forwarded-For": "198.51.100.9, not-an-ip"})
    assert node["sourceIp"] == "203.0.113.7"
    node, _ = await reset_with(api, {})
    assert node["sourceIp"] == "203.0.113.7"
    await api.client.aclose()


async def test_an_unsafe_client_request_id_is_not_kept(api: Api) -> None:
    for unsafe in ("x" * 65, "a b", "=cmd|' /C calc'!A0"):
        node, request_id = await reset_with(api, {"X-Request-Id": unsafe})
        assert node["clientRequestId"] is None and node["requestId"] == request_id


async def test_the_actor_and_origin_are_recorded(api: Api) -> None:
    user = await api.enabled_user()
    response = await api.post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": user["id"]}}},
        token="helpdesk",
        headers={"X-Request-Id": "ticket-4711", "User-Agent": "helpdesk-console/2"},
    )
    event = response.json()["data"]["resetConferenceId"]["auditEvent"]
    # confid's own request id answers and is recorded; the client's is kept beside it.
    request_id = response.headers["X-Request-Id"]
    assert request_id != "ticket-4711" and len(request_id) == 16
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    node = data["auditEvents"]["edges"][0]["node"]
    assert node["sequence"] == event["sequence"]
    assert node["actor"] == {
        "name": "helpdesk-1",
        "role": "HELPDESK",
        "issuer": None,
        "subject": None,
        "displayName": None,
    }
    assert node["sourceIp"] == "203.0.113.7"
    assert node["userAgent"] == "helpdesk-console/2"
    assert node["requestId"] == request_id
    assert node["clientRequestId"] == "ticket-4711"

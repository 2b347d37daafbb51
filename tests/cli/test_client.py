"""Talking to a running confid (app.cli.client): a THROTTLED answer (HTTP 429: nothing was
executed) is waited out and sent again."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

from app.cli.client import Client


def test_the_client_waits_out_a_throttled_answer() -> None:
    answers = [
        httpx.Response(
            429,
            headers={"Retry-After": "7"},
            json={"data": None, "errors": [{"message": "x", "extensions": {"code": "THROTTLED"}}]},
        ),
        httpx.Response(200, json={"data": {"viewer": {"name": "a"}}}),
    ]
    sent: list[Any] = []
    waited: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    client = Client("http://confid.test", "token", sleep=waited.append)
    client._http = httpx.Client(
        base_url="http://confid.test", transport=httpx.MockTransport(handle)
    )
    assert client.execute("{ viewer { name } }").data == {"viewer": {"name": "a"}}
    assert len(sent) == 2 and waited == [7.0]


def test_an_export_waits_out_a_throttled_answer_too() -> None:
    """An export is priced like a verification: an auditor meets THROTTLED there first."""
    throttled = {"data": None, "errors": [{"message": "x", "extensions": {"code": "THROTTLED"}}]}
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}, json=throttled),
        httpx.Response(200, content=b'{"type": "manifest"}\n'),
    ]
    waited: list[float] = []
    client = Client("http://confid.test", "token", sleep=waited.append)
    client._http = httpx.Client(
        base_url="http://confid.test", transport=httpx.MockTransport(lambda r: answers.pop(0))
    )
    with client.stream("/audit/export", {}) as response:
        assert response.read() == b'{"type": "manifest"}\n'
    assert waited == [3.0] and answers == []

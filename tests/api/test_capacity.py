"""Requests in progress, bounded per process (app.api.capacity): requests held in the
database take up CONFID_HTTP_MAX_CONCURRENCY, one more gets 503 at once while the probes
still answer; a body still on its way takes no place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from app.settings import Settings
from tests.support.api import ADMIN, Api, error_code, make_api, operation
from tests.support.database import Hold, WrappedDatabase
from tests.support.scrape import Scrape

USERS = operation("ListUsers")


@pytest.fixture
async def held(settings: Settings, raw_database: Any) -> AsyncIterator[tuple[Api, Hold]]:
    """confid allowing 2 requests in progress, on a database whose `users` reads wait
    while the hold is closed."""
    hold = Hold("users")
    api = await make_api(
        replace(settings, http_max_concurrency=2, metrics=True),
        WrappedDatabase(raw_database, hold=hold),
    )
    try:
        yield api, hold
    finally:
        hold.release()
        await api.client.aclose()


async def _until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the requests never got that far")


async def test_past_the_limit_a_request_gets_503_and_the_probes_answer(
    held: tuple[Api, Hold],
) -> None:
    api, hold = held
    hold.close()
    working = [asyncio.ensure_future(api.gql(USERS, {"first": 2})) for _ in range(2)]
    await _until(lambda: hold.waiting == 2)  # both are in progress, in the database

    # Without the limit this one would wait in the database too: bounded, so it fails.
    refused = await asyncio.wait_for(api.post({"query": USERS, "variables": {"first": 2}}), 10)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    body = refused.json()
    assert body["data"] is None and error_code(body) == "INTERNAL"
    assert "busy" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["requestId"] == refused.headers["X-Request-Id"]
    other = await api.client.get("/auth/config")  # every route counts, not /graphql alone
    assert other.status_code == 503 and other.headers["Retry-After"] == "1"
    assert (await api.client.get("/healthz")).status_code == 200  # probes never wait
    assert (await api.client.get("/readyz")).status_code == 200

    hold.release()
    for result in await asyncio.gather(*working):
        assert "errors" not in result and len(result["data"]["users"]["edges"]) == 2
    again = await api.post({"query": USERS, "variables": {"first": 2}})  # places given back
    assert again.status_code == 200 and "errors" not in again.json()
    assert (await api.client.get("/auth/config")).status_code == 200
    scrape = Scrape.parse((await api.client.get("/metrics")).text)
    assert scrape.value("confid_throttled_requests_total", limit="concurrency") == 2


async def test_a_body_on_its_way_takes_no_place(held: tuple[Api, Hold]) -> None:
    api, _ = held
    started = 0
    more = asyncio.Event()
    payload = b'{"query": "{ viewer { name } }"}'

    async def trickle() -> AsyncIterator[bytes]:
        nonlocal started
        yield payload[:10]  # asked for by the view: the request is in, reading its body
        started += 1
        await more.wait()  # the rest comes later: a slow client
        yield payload[10:]

    headers = {**ADMIN, "Content-Type": "application/json"}
    slow = [
        asyncio.ensure_future(api.client.post("/graphql", content=trickle(), headers=headers))
        for _ in range(3)
    ]
    await _until(lambda: started == 3)
    for _ in range(3):  # more bodies on their way than places: requests still run
        quick = await api.post({"query": "{ viewer { name } }"})
        assert quick.status_code == 200, quick.text
    more.set()
    for response in await asyncio.gather(*slow):
        assert response.status_code == 200
        assert response.json()["data"] == {"viewer": {"name": "admin-1"}}

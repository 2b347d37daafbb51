"""What one caller may hold of the websockets (app.api.live_limits, applied by
app.api.live): sockets per token, sockets per address that have not authenticated, with
real sockets against a served confid with small limits; the refusals are counted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.api.live_limits import SocketGate, TokenSlots
from app.domain.access import Principal
from app.domain.addresses import address_key
from app.domain.errors import BadRequest
from app.domain.models import Role
from app.settings import Settings
from tests.support.live import Connect, Instance, Live
from tests.support.scrape import Scrape

EVENTS = "subscription { auditEventAppended { sequence } }"


async def _refusals(instance: Instance, limit: str) -> float:
    scrape = Scrape.parse((await instance.client.get("/metrics")).text)
    return scrape.value("confid_throttled_requests_total", limit=limit)


async def _ponged(connection: Live) -> None:
    """The server is handling this socket (ping is answered before connection_init too)."""
    await connection.send({"type": "ping"})
    assert await connection.receive() == {"type": "pong"}


@pytest.fixture
async def small(serve: Any, live_settings: Settings, raw_database: Any) -> Instance:
    settings = replace(
        live_settings,
        websockets_per_token=2,
        websockets_unauthenticated_per_address=2,
        http_max_concurrency=1,
        metrics=True,
    )
    instance: Instance = await serve(settings, raw_database)
    return instance


async def test_a_token_holds_at_most_its_number_of_websockets(
    small: Instance, live: Connect
) -> None:
    first: Live = await live(small, "auditor")
    await live(small, "auditor")
    third: Live = await live(small, token=None)
    await third.send(
        {"type": "connection_init", "payload": {"Authorization": "Bearer test-auditor-token"}}
    )
    messages, code, reason = await third.until_closed()
    assert (code, messages) == (4429, [])
    assert reason == "At most 2 websockets may be open at once for one token."
    assert await _refusals(small, "websockets_per_token") == 1
    admin: Live = await live(small, "admin")  # another token has its own
    sid = await admin.subscribe(EVENTS)
    await admin.send({"id": sid, "type": "complete"})
    # Requests over HTTP are not held up by open sockets (1 request in progress allowed).
    assert (await small.client.get("/healthz")).status_code == 200
    assert (await small.client.get("/auth/config")).status_code == 200

    await first.socket.close()  # gives its place back, once the server has seen it go
    for _ in range(200):
        again: Live = await live(small, token=None)
        ack = await again.init("auditor")
        if ack == {"type": "connection_ack"}:
            break
        assert (await again.until_closed())[1] == 4429
    assert ack == {"type": "connection_ack"}


async def test_an_address_has_few_sockets_waiting_for_connection_init(
    small: Instance, live: Connect
) -> None:
    waiting = [await live(small, token=None) for _ in range(2)]
    for connection in waiting:
        await _ponged(connection)
    over: Live = await live(small, token=None)
    messages, code, reason = await over.until_closed()
    assert (code, messages) == (1013, [])  # try again later: the others authenticate soon
    assert reason is not None and "waiting for connection_init" in reason
    assert await _refusals(small, "websockets_per_address") == 1

    # An authenticated socket no longer counts for its address: there is room for one.
    assert await waiting[0].init("auditor") == {"type": "connection_ack"}
    later: Live = await live(small, token=None)
    await _ponged(later)
    assert (await (await live(small, token=None)).until_closed())[1] == 1013  # full again
    assert await _refusals(small, "websockets_per_address") == 2
    await waiting[1].socket.close()  # one that left gives its place back
    for _ in range(200):
        another: Live = await live(small, token=None)
        await another.send({"type": "ping"})
        message = await _first_or_close(another)
        if message == {"type": "pong"}:
            break
    assert message == {"type": "pong"}


async def _first_or_close(connection: Live) -> dict[str, Any] | int | None:
    """The first message, or the close code when the socket is closed instead."""
    try:
        return await connection.receive()
    except Exception:
        return (await connection.close_code())[0]


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same /64: one host's share
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, "-"),
    ],
)
def test_addresses_count_by_host_or_ipv6_64(address: str | None, key: str) -> None:
    assert address_key(address) == key


async def test_a_person_and_a_token_sharing_a_name_are_counted_apart() -> None:
    """Sockets and subscription slots count by `Principal.key`: a signed-in person whose
    username is also a static token's name does not use up that token's share."""
    token = Principal("ops", Role.AUDITOR)
    person = Principal("ops", Role.AUDITOR, "https://idp.example.test", "subject-1")
    gate = SocketGate(per_token=1, unauthenticated_per_address=10)
    first, second, third = (gate.arrive("203.0.113.7") for _ in range(3))
    assert first is not None and second is not None and third is not None
    assert first.authenticated(token)
    assert second.authenticated(person)
    assert not third.authenticated(token)  # the token's one socket is taken
    assert gate.open_for(token) == gate.open_for(person) == 1

    slots = TokenSlots(per_token=1)
    async with slots.hold(token), slots.hold(person):
        with pytest.raises(BadRequest):
            slots.check(token)


async def test_a_socket_that_never_authenticates_gives_its_place_back(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Closed with 4408 when `connection_init` does not come in time: its address's place
    is free again (else a client could lock its address out by waiting)."""
    from app.api import view

    monkeypatch.setattr(view, "CONNECTION_INIT_SECONDS", 0.3)
    settings = replace(live_settings, websockets_unauthenticated_per_address=1)
    instance: Instance = await serve(settings, raw_database)
    silent: Live = await live(instance, token=None)
    await _ponged(silent)
    messages, code, _ = await silent.until_closed()
    assert (code, messages) == (4408, [])
    again: Live = await live(instance, token=None)
    assert await again.init("auditor") == {"type": "connection_ack"}

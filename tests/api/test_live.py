"""Subscriptions over graphql-transport-ws (app.api.live, app.api.live_context,
app.api.subscriptions) with a real websocket, against confid instances served in this
process (two on one database where it matters): roles, limits, delivery, the token's
expiry, idle sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from app.api import live as live_module
from app.api.live_context import EXPIRED
from app.services import tail as tail_module
from app.services.identity import IdentityClock
from app.services.tokens import hash_token
from app.settings import Settings
from tests.support.api import operation, write_tokens
from tests.support.idp import Provider
from tests.support.live import Connect, Instance, Live, enabled_user_ids, head
from tests.support.oidc import LEEWAY, Clock, oidc_settings

EVENTS = operation("AuditEventAppended")
EMAILS = operation("NotificationUpdated")
RESET = operation("ResetConferenceId")


async def test_every_role_subscribes_or_is_refused(pair: list[Instance], live: Connect) -> None:
    for role, events, emails in (
        ("admin", True, True),
        ("auditor", True, False),
        ("helpdesk", False, False),
    ):
        connection: Live = await live(pair[0], role)
        for query, allowed in ((EVENTS, events), (EMAILS, emails)):
            sid = await connection.subscribe(query)
            if allowed:  # it runs: nothing comes back until something happens
                await connection.send({"id": sid, "type": "complete"})
                continue
            refused = await connection.first(sid)
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
            assert role in refused["payload"][0]["message"]
        await connection.socket.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, 4401),
        ({"Authorization": "Bearer not-a-token"}, 4401),
        ({"Authorization": "Basic YWRtaW4="}, 4401),
        ({"authorization": "Bearer test-admin-token"}, None),  # any case of the key
    ],
)
async def test_connection_init_authenticates(
    pair: list[Instance], live: Connect, payload: dict[str, str], code: int | None
) -> None:
    connection: Live = await live(pair[1], token=None)
    await connection.send({"type": "connection_init", "payload": payload})
    if code is None:
        assert await connection.receive() == {"type": "connection_ack"}
        return
    closed, reason = await connection.close_code()
    assert closed == code and reason


async def test_nothing_runs_before_connection_init(pair: list[Instance], live: Connect) -> None:
    connection: Live = await live(pair[0], token=None)
    await connection.subscribe(EVENTS)
    assert (await connection.close_code())[0] == 4401


async def test_only_subscriptions_run_over_the_socket(pair: list[Instance], live: Connect) -> None:
    connection: Live = await live(pair[0], "admin")
    sid = await connection.subscribe(operation("Viewer"))
    refused = await connection.first(sid)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "POST /graphql" in refused["payload"][0]["message"]


async def test_concurrent_resets_on_two_instances_arrive_once_each_in_order(
    pair: list[Instance], live: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_module, "BATCH", 4)  # many batches per poll
    start = await head(pair[0])
    watchers = [await live(pair[0], "auditor"), await live(pair[1], "admin")]
    sids = [await w.subscribe(EVENTS, {"afterSequence": start}) for w in watchers]
    users = (await enabled_user_ids(pair[0]))[:6]

    async def reset(instance: Instance, n: int) -> int:
        data = await instance.data(
            RESET, {"input": {"userId": users[n % len(users)], "reason": f"live {n}"}}
        )
        sequence: int = data["resetConferenceId"]["auditEvent"]["sequence"]
        return sequence

    appended = await asyncio.gather(*(reset(pair[n % 2], n) for n in range(40)))
    end = await head(pair[0])
    assert end - start >= 40 and len(set(appended)) == 40
    for watcher, sid in zip(watchers, sids, strict=True):
        payloads = await watcher.events(sid, end - start)
        sequences = [p["data"]["auditEventAppended"]["sequence"] for p in payloads]
        assert sequences == list(range(start + 1, end + 1))  # in order, once, none missing
        assert set(appended) <= set(sequences)
        reasons = {p["data"]["auditEventAppended"]["reason"] for p in payloads}
        assert {f"live {n}" for n in range(40)} <= reasons


async def test_filters_send_exactly_the_matching_entries(
    pair: list[Instance], live: Connect
) -> None:
    users = await enabled_user_ids(pair[0])
    target = users[0]
    watcher = await live(pair[1], "auditor")
    start = await head(pair[0])
    sends = await watcher.subscribe(
        EVENTS, {"filter": {"action": "SEND_INFO"}, "afterSequence": start}
    )
    refusals = await watcher.subscribe(
        EVENTS, {"filter": {"userId": target, "outcome": "REJECTED"}, "afterSequence": start}
    )
    by_admin = await watcher.subscribe(
        EVENTS, {"filter": {"actor": "admin-1"}, "afterSequence": start}
    )
    send = operation("SendConferenceInfo")
    chosen = operation("SetConferenceId")
    for instance in pair:
        await instance.data(send, {"input": {"userId": target}})
        await instance.data(chosen, {"input": {"userId": target, "conferenceId": "1111111"}})
        await instance.data(chosen, {"input": {"userId": users[1], "conferenceId": "1111111"}})
        await instance.data(RESET, {"input": {"userId": users[2]}}, token="helpdesk")
    trail = await pair[0].data(operation("ListAuditEvents"), {"first": 50}, token="auditor")
    fresh = [e["node"] for e in trail["auditEvents"]["edges"] if e["node"]["sequence"] > start]
    fresh.sort(key=lambda node: node["sequence"])

    def expected(keep: Any) -> list[int]:
        return [node["sequence"] for node in fresh if keep(node)]

    for sid, keep in (
        (sends, lambda n: n["action"] == "SEND_INFO"),
        (refusals, lambda n: n["user"]["id"] == target and n["outcome"] == "REJECTED"),
        (by_admin, lambda n: n["actor"]["name"] == "admin-1"),
    ):
        want = expected(keep)
        assert want
        got = await watcher.events(sid, len(want))
        assert [p["data"]["auditEventAppended"]["sequence"] for p in got] == want
    # Nothing else is on its way: a marker entry that all three filters let through
    # is the next message of each.
    await pair[0].data(send, {"input": {"userId": target, "toAddress": "bad address"}})
    marker = await head(pair[0])
    for sid in (refusals, by_admin):
        (payload,) = await watcher.events(sid, 1)
        assert payload["data"]["auditEventAppended"]["sequence"] == marker


async def test_each_subscription_start_is_one_access_log_record(
    pair: list[Instance], live: Connect
) -> None:
    watcher = await live(pair[0], "auditor")
    users = await enabled_user_ids(pair[0])
    start = await head(pair[0])
    sid = await watcher.subscribe(
        EVENTS, {"filter": {"action": "RESET", "actor": "admin-1"}, "afterSequence": start}
    )
    for user in users[:3]:
        await pair[1].data(RESET, {"input": {"userId": user}})
    await watcher.events(sid, 3)
    log = await pair[1].data(operation("AuditAccessLog"), {"first": 10}, token="admin")
    records = [e["node"] for e in log["auditAccessLog"]["edges"]]
    starts = [r for r in records if r["what"] == "auditEventAppended"]
    assert len(starts) == 1
    assert starts[0]["actor"]["name"] == "auditor-1"
    assert starts[0]["filters"] == ["action=RESET", "actor=admin-1", f"afterSequence={start}"]


async def test_email_records_arrive_as_they_are_recorded(
    pair: list[Instance], live: Connect
) -> None:
    users = await enabled_user_ids(pair[0])
    watcher = await live(pair[0], "admin")
    sid = await watcher.subscribe(EMAILS, {"filter": {"kind": "CONFERENCE_INFO"}})
    everything = await watcher.subscribe(EMAILS)
    # Each start is recorded once the subscriber is in place: wait for both records.
    for _ in range(500):
        log = await pair[0].data(operation("AuditAccessLog"), {"first": 5}, token="admin")
        starts = [r["node"]["what"] for r in log["auditAccessLog"]["edges"]]
        if starts.count("notificationUpdated") == 2:
            break
        await asyncio.sleep(0.01)
    assert starts.count("notificationUpdated") == 2
    await pair[1].data(RESET, {"input": {"userId": users[0]}})
    sent = await pair[1].data(operation("SendConferenceInfo"), {"input": {"userId": users[1]}})
    note = sent["sendConferenceInfo"]["notification"]
    (info,) = await watcher.events(sid, 1)
    assert info["data"]["notificationUpdated"]["id"] == note["id"]
    assert info["data"]["notificationUpdated"]["status"] == "RECORDED"
    kinds = [p["data"]["notificationUpdated"]["kind"] for p in await watcher.events(everything, 2)]
    assert kinds == ["CONFERENCE_ID_CHANGED", "CONFERENCE_INFO"]


@pytest.fixture
def tight(live_settings: Settings) -> Settings:
    return replace(live_settings, subscriptions_per_connection=2, subscriptions_per_token=3)


async def test_subscriptions_are_limited_per_connection_and_per_token(
    serve: Any, tight: Settings, raw_database: Any, live: Connect
) -> None:
    instance = await serve(tight, raw_database)
    one = await live(instance, "auditor")
    a, b = await one.subscribe(EVENTS), await one.subscribe(EVENTS)
    third = await one.first(await one.subscribe(EVENTS))
    assert third["type"] == "error"
    assert "At most 2 subscriptions may run on one connection" in third["payload"][0]["message"]
    assert third["payload"][0]["extensions"]["code"] == "BAD_REQUEST"

    two = await live(instance, "auditor")
    await two.subscribe(EVENTS)  # the token's third
    fourth = await two.first(await two.subscribe(EVENTS))
    assert fourth["type"] == "error"
    assert "At most 3 subscriptions" in fourth["payload"][0]["message"]
    other = await live(instance, "admin")  # another token has its own slots
    await other.subscribe(EVENTS)

    await one.send({"id": a, "type": "complete"})  # gives its slot back
    start = await head(instance)
    for _ in range(100):  # once the server has taken the completion in
        again = await two.subscribe(EVENTS, {"afterSequence": start - 1})
        message = await two.first(again)
        if message["type"] == "next":
            break
        assert "At most 3" in message["payload"][0]["message"], message
        await asyncio.sleep(0.02)
    assert message["type"] == "next"
    payload = message["payload"]
    assert payload["data"]["auditEventAppended"]["sequence"] == start
    assert b


async def test_a_stalled_subscriber_is_dropped_with_a_reason(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = replace(live_settings, live_queue_events=5)
    instance = await serve(settings, raw_database, send_buffer=4096)
    tail = instance.services.live.audit
    stalled: Live = await live(instance, "auditor", receive_buffer=4096, max_queue=1)
    await stalled.subscribe(EVENTS)
    keen: Live = await live(instance, "admin")
    keen_sid = await keen.subscribe(EVENTS, {"filter": {"action": "SEND_INFO"}})
    while tail.subscribers < 2:
        await asyncio.sleep(0.01)
    user = (await enabled_user_ids(instance))[0]
    resets = 0
    while tail.subscribers == 2:  # the stalled one reads nothing; its queue fills up
        await asyncio.gather(
            *(instance.data(RESET, {"input": {"userId": user}}) for _ in range(10))
        )
        resets += 10
        assert resets < 2000, "the stalled subscriber was never dropped"
    code, reason = await stalled.close_code()
    assert code == 1013 and reason is not None and "not read in time" in reason
    assert tail.subscribers == 1  # the keen subscriber is unaffected
    await instance.data(operation("SendConferenceInfo"), {"input": {"userId": user}})
    (payload,) = await keen.events(keen_sid, 1)
    assert payload["data"]["auditEventAppended"]["action"] == "SEND_INFO"
    # Dropping it is expected: no traceback of a send after the close in the log.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("name", ["AuditEventAppended", "NotificationUpdated"])
async def test_each_example_subscription_runs_as_written(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect, name: str
) -> None:
    """The subscription files of graphql/operations/, with their header's variables, on a
    fresh demo: the first event after a reset arrives, without errors."""
    import json

    from tests.support.api import operation_header

    instance = await serve(live_settings, raw_database)
    connection: Live = await live(instance, "admin")
    variables = json.loads(operation_header(name, "variables") or "{}")
    sid = await connection.subscribe(operation(name), variables)
    await asyncio.sleep(0.2)  # the subscription is registered before the change
    (user, *_) = await enabled_user_ids(instance)
    await instance.data(operation("ResetConferenceId"), {"input": {"userId": user}})
    (event,) = await connection.events(sid, 1)
    assert "errors" not in event, event
    (payload,) = event["data"].values()
    assert payload["id"]


# --- the token's expiry -----------------------------------------------------------------

SHORT_LIVED = "test-short-lived-auditor-token"
VIEWER = {"query": "{ viewer { name } }"}


def _expiring_tokens(folder: Path, expires: datetime) -> Path:
    """The test tokens, and an auditor token that expires at `expires`."""
    path = write_tokens(folder / "tokens.toml")
    with path.open("a", encoding="utf-8") as file:
        file.write(
            f'[[tokens]]\nname = "short-lived"\nrole = "auditor"\n'
            f'sha256 = "{hash_token(SHORT_LIVED)}"\n'
            f"expires = {expires:%Y-%m-%dT%H:%M:%SZ}\n"
        )
    return path


async def _short_lived(
    serve: Any, live_settings: Settings, raw_database: Any, folder: Path
) -> tuple[Instance, Clock]:
    """A confid whose SHORT_LIVED token expires in an hour by the returned clock."""
    clock = Clock()
    tokens = _expiring_tokens(folder, datetime.now(UTC) + timedelta(hours=1))
    instance = await serve(
        replace(live_settings, tokens_file=tokens),
        raw_database,
        identity_clock=IdentityClock(wall=clock.wall),
    )
    return instance, clock


async def test_nothing_is_sent_once_the_token_has_expired(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect, tmp_path: Path
) -> None:
    """The clock passes the token's `expires` between two entries: the next entry is not
    sent, the socket closes with 4401 at once (not when the timer next looks, up to
    EXPIRY_RECHECK_SECONDS later), and HTTP refuses the token as well."""
    instance, clock = await _short_lived(serve, live_settings, raw_database, tmp_path)
    watcher: Live = await live(instance, SHORT_LIVED)
    start = await head(instance)
    sid = await watcher.subscribe(EVENTS, {"afterSequence": start})
    user = (await enabled_user_ids(instance))[0]
    await instance.data(RESET, {"input": {"userId": user}})
    (before,) = await watcher.events(sid, 1)
    assert before["data"]["auditEventAppended"]["sequence"] == start + 1

    clock.offset = 3600 + 1  # an hour later: the token has expired
    refused = await instance.client.post(
        "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {SHORT_LIVED}"}
    )
    assert refused.status_code == 401 and "expired" in refused.json()["errors"][0]["message"]
    await instance.data(RESET, {"input": {"userId": user}})  # an entry after the expiry
    messages, code, reason = await watcher.until_closed()
    assert code == 4401 and reason is not None and "expired" in reason
    assert messages == []  # the entry appended after the expiry never went out


async def test_a_signed_in_persons_socket_closes_when_their_token_expires(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    idp: Provider,
    tokens: dict[str, str],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A JWT's `exp` (plus the leeway HTTP allows) closes the socket by the timer alone:
    nothing happens on the socket, no entry is appended."""
    monkeypatch.setattr(live_module, "EXPIRY_RECHECK_SECONDS", 0.05)  # the test steps the clock
    instance = await serve(
        oidc_settings(live_settings, idp),
        raw_database,
        identity_clock=IdentityClock(wall=clock.wall, monotonic=clock.monotonic),
    )
    token = tokens["audrey"]  # an auditor
    watcher: Live = await live(instance, token)
    await watcher.subscribe(EVENTS)
    ok = await instance.client.post(
        "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.json()["data"]["viewer"]["name"] == "audrey@example.test"

    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    clock.offset = exp + LEEWAY + 1 - time.time()  # past `exp` and the leeway
    messages, code, reason = await watcher.until_closed()
    assert (code, reason, messages) == (4401, EXPIRED, [])
    refused = await instance.client.post(
        "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401


async def test_an_expired_token_starts_nothing_before_the_timer_fires(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect, tmp_path: Path
) -> None:
    """The clock is stepped past `expires` while the timer sleeps (it looks again only
    every EXPIRY_RECHECK_SECONDS): a subscribe sent now starts nothing and gets no answer
    but the socket's close with 4401."""
    instance, clock = await _short_lived(serve, live_settings, raw_database, tmp_path)
    watcher: Live = await live(instance, SHORT_LIVED)
    clock.offset = 3600 + 1
    await watcher.subscribe(EVENTS)
    messages, code, reason = await watcher.until_closed()
    assert (code, reason, messages) == (4401, EXPIRED, [])


async def test_a_static_tokens_socket_closes_on_the_timer_alone(
    serve: Any,
    live_settings: Settings,
    raw_database: Any,
    live: Connect,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing happens on the socket and nothing is appended: the timer closes it."""
    monkeypatch.setattr(live_module, "EXPIRY_RECHECK_SECONDS", 0.05)  # the test steps the clock
    instance, clock = await _short_lived(serve, live_settings, raw_database, tmp_path)
    watcher: Live = await live(instance, SHORT_LIVED)
    await watcher.subscribe(EVENTS)
    clock.offset = 3600 + 1
    messages, code, reason = await watcher.until_closed()
    assert (code, reason, messages) == (4401, EXPIRED, [])


# --- idle sockets -----------------------------------------------------------------------


async def test_a_socket_without_a_subscription_is_closed_when_idle(
    serve: Any, live_settings: Settings, raw_database: Any, live: Connect
) -> None:
    instance = await serve(replace(live_settings, websocket_idle_seconds=0.2), raw_database)
    idle: Live = await live(instance, "auditor")  # authenticated, subscribes to nothing
    busy: Live = await live(instance, "auditor")
    start = await head(instance)
    sid = await busy.subscribe(EVENTS, {"afterSequence": start})
    messages, code, reason = await idle.until_closed()
    assert code == 1000 and reason == "Idle: no subscription ran for 0.2 s." and messages == []

    await asyncio.sleep(0.4)  # twice the idle time: a running subscription keeps its socket
    user = (await enabled_user_ids(instance))[0]
    await instance.data(RESET, {"input": {"userId": user}})
    (event,) = await busy.events(sid, 1)
    assert event["data"]["auditEventAppended"]["sequence"] == start + 1
    await busy.send({"id": sid, "type": "complete"})  # idle from now on
    messages, code, _ = await busy.until_closed()
    assert code == 1000 and messages == []


@pytest.mark.parametrize("query", ["?access_token=x", "?Access_Token=x", "?apiKey=x", "?jwt=x"])
async def test_token_like_query_parameters_are_refused_in_any_spelling(
    serve: Any, live_settings: Settings, raw_database: Any, query: str
) -> None:
    """As over HTTP: a valid token in `connection_init` does not excuse a URL that carries
    something token-like (URLs end up in logs and histories)."""
    from websockets.asyncio.client import connect

    from tests.support.live import PROTOCOL

    instance = await serve(live_settings, raw_database)
    async with connect(instance.ws_url + query, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        watcher = Live(socket)
        await watcher.send(
            {"type": "connection_init", "payload": {"Authorization": "Bearer test-auditor-token"}}
        )
        messages, code, reason = await watcher.until_closed()
    assert (code, messages) == (4401, [])
    assert reason is not None and "query string" in reason

"""Emails through GraphQL, the outbox and the delivery worker (app.services.delivery) to a
real SMTP server (aiosmtpd): sent once, retried when the server says later, failed when it
refuses, never sent twice by two instances."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx2 as httpx
import pytest

from app.api.ids import decode_id
from app.main import create_app
from app.notify.smtp import SmtpConfig, SmtpTransport
from app.notify.transport import DeliveryResult, OutgoingEmail
from app.services.container import Services
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.database import WrappedDatabase
from tests.support.faults import ProcessDied
from tests.support.invariants import assert_consistent
from tests.support.mailserver import DROP, MailServer, serving
from tests.support.served import free_port

SENDER = "confid@contoso.example"
TERMINAL = {"SENT", "FAILED"}


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpConfig("127.0.0.1", port, sender=SENDER, timeout=5))


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """Retries due at once (base 0), 8 attempts."""
    return replace(settings, email_retry_base_seconds=0, email_max_attempts=8)


async def send_info(api: Api, index: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    user = await api.enabled_user(index)
    data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    assert data["sendConferenceInfo"]["userErrors"] == []
    return user, data["sendConferenceInfo"]["notification"]


async def stored(api: Api, notification: dict[str, Any]) -> dict[str, Any]:
    """The notification as `notifications` lists it now."""
    user = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Notification { user { id } } } }",
        {"id": notification["id"]},
    )
    listed = await api.data(
        operation("ListNotifications"), {"userId": user["node"]["user"]["id"], "first": 100}
    )
    (node,) = [e["node"] for e in listed["notifications"]["edges"]
               if e["node"]["id"] == notification["id"]]  # fmt: skip
    return node


def raw_id(notification: dict[str, Any]) -> str:
    raw = decode_id(notification["id"], "Notification")
    assert raw is not None
    return raw


def message_id_of(notification: dict[str, Any]) -> str:
    return f"<{raw_id(notification)}@contoso.example>"


def has_pin(text: str) -> bool:
    return re.search(r"\bPIN\b", text, re.IGNORECASE) is not None


async def test_accepted_is_sent_once_with_its_message_id(
    quick: Settings, raw_database: Any
) -> None:
    async with serving(MailServer()) as mail:
        api = await make_api(quick, raw_database, transport=smtp(mail.port))
        user, note = await send_info(api)
        assert await api.services.delivery.run_once() == 0
    assert note["status"] == "SENT" and note["attempts"] == 1
    assert note["sentAt"] is not None and note["nextAttemptAt"] is None
    assert note["error"] is None and note["lastError"] is None
    (message,) = mail.accepted
    assert message["Message-ID"] == message_id_of(note)
    assert message["To"] == user["email"] and message["From"] == SENDER
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    assert user["audioConferencing"]["conferenceId"] in text and not has_pin(text)
    assert not has_pin(note["body"]) and not has_pin(note["subject"])
    await api.client.aclose()


async def test_451_twice_then_accepted(quick: Settings, raw_database: Any) -> None:
    script = ["451 4.3.0 mailbox busy", "451 4.3.0 mailbox busy"]
    async with serving(MailServer(script=script)) as mail:
        api = await make_api(quick, raw_database, transport=smtp(mail.port))
        _, note = await send_info(api)
        seen = [(note["status"], note["attempts"])]
        assert note["lastError"] == "451 4.3.0 mailbox busy (in data)"
        assert note["nextAttemptAt"] is not None and note["error"] is None
        for _ in range(3):
            made = await api.services.delivery.run_once()
            now = await stored(api, note)
            seen.append((now["status"], now["attempts"]))
            assert made == (1 if seen[-2][0] == "RETRYING" else 0)
    assert seen == [("RETRYING", 1), ("RETRYING", 2), ("SENT", 3), ("SENT", 3)]
    assert now["sentAt"] is not None and now["nextAttemptAt"] is None
    assert now["lastError"] == "451 4.3.0 mailbox busy (in data)" and now["error"] is None
    # Three attempts reached DATA, all with the same Message-ID; one was accepted.
    assert mail.data_commands == {message_id_of(note): 3}
    assert mail.accepted_ids == [message_id_of(note)]
    await api.client.aclose()


async def test_550_fails_at_once_with_the_code_and_text(quick: Settings, raw_database: Any) -> None:
    async with serving(MailServer(script=["550 5.1.1 no such mailbox here"])) as mail:
        api = await make_api(quick, raw_database, transport=smtp(mail.port))
        _, note = await send_info(api)
        assert await api.services.delivery.run_once() == 0
        now = await stored(api, note)
    assert (note["status"], note["attempts"]) == ("FAILED", 1)
    assert note["error"] == "550 5.1.1 no such mailbox here"
    assert (now["status"], now["attempts"], now["nextAttemptAt"]) == ("FAILED", 1, None)
    assert sum(mail.data_commands.values()) == 1 and mail.accepted == []
    await api.client.aclose()


async def test_connection_dropped_after_data_is_delivery_unknown_and_never_resent(
    quick: Settings, raw_database: Any
) -> None:
    async with serving(MailServer(script=[DROP])) as mail:
        api = await make_api(quick, raw_database, transport=smtp(mail.port))
        _, note = await send_info(api)
        assert await api.services.delivery.run_once() == 0
        await api.services.recovery.sweep()
        now = await stored(api, note)
    assert (note["status"], note["attempts"]) == ("FAILED", 1)
    assert note["error"] == "delivery unknown: connection lost after the data was sent"
    assert (now["status"], now["attempts"]) == ("FAILED", 1)
    assert mail.data_commands == {message_id_of(note): 1}
    await api.client.aclose()


async def test_an_unreachable_server_is_retried_until_attempts_run_out(
    quick: Settings, raw_database: Any
) -> None:
    api = await make_api(quick, raw_database, transport=smtp(free_port()))
    _, note = await send_info(api)
    seen = [(note["status"], note["attempts"])]
    for _ in range(8):
        made = await api.services.delivery.run_once()
        now = await stored(api, note)
        seen.append((now["status"], now["attempts"]))
        assert made == (1 if seen[-2][0] == "RETRYING" else 0)
    assert seen == [("RETRYING", n) for n in range(1, 8)] + [("FAILED", 8), ("FAILED", 8)]
    assert now["error"] == "gave up after 8 attempts; last: connection refused"
    assert now["lastError"] == now["error"] and now["nextAttemptAt"] is None
    await api.client.aclose()


async def test_a_retry_waits_until_it_is_due(settings: Settings, raw_database: Any) -> None:
    # The default base (60 s): the second attempt is a minute away, so a pass now
    # attempts nothing.
    async with serving(MailServer(script=["421 4.3.2 shutting down"])) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        _, note = await send_info(api)
        assert await api.services.delivery.run_once() == 0
        now = await stored(api, note)
    assert (now["status"], now["attempts"]) == ("RETRYING", 1)
    assert now["lastError"] == "421 4.3.2 shutting down (in data)"
    assert now["nextAttemptAt"] is not None and now["nextAttemptAt"] > now["createdAt"]
    assert sum(mail.data_commands.values()) == 1
    await api.client.aclose()


class DiesMidAttempt:
    """Stands for a process that dies while handing an email over (after claiming it)."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner
        self.calls = 0

    async def deliver(self, email: Any) -> Any:
        self.calls += 1
        if self.calls == 2:
            raise ProcessDied
        return await self.inner.deliver(email)


async def test_a_retry_whose_process_died_is_failed_not_resent(
    quick: Settings, raw_database: Any
) -> None:
    async with serving(MailServer(script=["451 4.3.0 later"])) as mail:
        transport = DiesMidAttempt(smtp(mail.port))
        first = await make_api(quick, raw_database, transport=transport)
        _, note = await send_info(first)
        assert (note["status"], note["attempts"]) == ("RETRYING", 1)
        assert await first.services.delivery.run_once() == 1  # claimed, then "died"
        # Another instance: the attempt is leased, so it is not made again ...
        second = await make_api(replace(quick, recovery_grace_seconds=3600), raw_database,
                                transport=smtp(mail.port))  # fmt: skip
        assert await second.services.delivery.run_once() == 0
        assert (await stored(second, note))["status"] == "RETRYING"
        # ... and once the lease is older than the grace period, recovery (here at the
        # start-up of a third instance) says FAILED.
        await asyncio.sleep(0.01)
        third = await make_api(replace(quick, recovery_grace_seconds=0), raw_database,
                               transport=smtp(mail.port))  # fmt: skip
        now = await stored(third, note)
        assert await third.services.delivery.run_once() == 0
        assert (await third.services.recovery.sweep()).total == 0
    assert (now["status"], now["attempts"]) == ("FAILED", 2)
    assert now["error"] == "delivery unknown: the process stopped during hand-over"
    assert mail.data_commands == {message_id_of(note): 1}  # the 451; nothing after
    for api in (first, second, third):
        await api.client.aclose()


@asynccontextmanager
async def running_instance(settings: Settings, database: Any, transport: Any) -> AsyncIterator[Api]:
    """A confid instance with its lifespan running (so its delivery worker runs)."""
    app = create_app(settings, database=database, transport=transport)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4242))
        async with httpx.AsyncClient(transport=transport, base_url="http://confid.test") as c:
            yield Api(app=app, client=c, services=services)


async def all_settled(database: Any, ids: list[str]) -> list[dict[str, Any]]:
    notes = database.get_collection("notifications")
    for _ in range(2000):  # a guard against hanging, not a timing assertion
        docs: list[dict[str, Any]] = await notes.find({"_id": {"$in": ids}}).to_list(None)
        if len(docs) == len(ids) and all(d["status"] in TERMINAL for d in docs):
            return docs
        await asyncio.sleep(0.01)
    raise AssertionError(f"not settled: {[(d['_id'], d['status']) for d in docs]}")


async def test_two_instances_on_one_database_never_make_an_attempt_twice(
    quick: Settings, raw_database: Any
) -> None:
    script = ["451 4.3.0 busy", "451 4.3.0 busy"]  # per message: two refusals, then 250
    fast = replace(quick, email_poll_seconds=0.01, seed_demo=True)
    shared = WrappedDatabase(raw_database, interleave=True)  # both instances' calls interleave
    watch = Overlaps()
    async with serving(MailServer(script=script)) as mail, AsyncExitStack() as stack:
        a = await stack.enter_async_context(
            running_instance(fast, shared, watch.around("a", smtp(mail.port)))
        )
        b = await stack.enter_async_context(
            running_instance(replace(fast, seed_demo=False), shared,
                             watch.around("b", smtp(mail.port)))
        )  # fmt: skip
        sends = [send_info(api, index) for index in range(6) for api in (a, b)]
        notes = [note for _, note in await asyncio.gather(*sends)]
        docs = await all_settled(raw_database, [raw_id(n) for n in notes])
    assert sorted(d["status"] for d in docs) == ["SENT"] * len(notes)
    assert sorted(d["attempts"] for d in docs) == [3] * len(notes)
    ids = [message_id_of(n) for n in notes]
    # Every attempt that reached the server was one attempt of the record: 3 each, never
    # a fourth; every message accepted exactly once.
    assert mail.data_commands == {i: 3 for i in ids}
    assert sorted(mail.accepted_ids) == sorted(ids)
    assert all("leaseOwner" not in d and "handoverAt" not in d for d in docs)
    assert watch.most == 1, "two hand-overs of one email were under way at once"
    await assert_consistent(raw_database)


class Overlaps:
    """Wraps the transports of several instances: notes how many hand-overs of one email
    were ever under way at the same time, and which instance made each."""

    def __init__(self) -> None:
        self.under_way: Counter[str] = Counter()
        self.most = 0
        self.by_instance: Counter[str] = Counter()

    def around(self, name: str, inner: SmtpTransport) -> Any:
        overlaps = self

        class Watched:
            async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
                overlaps.under_way[email.notification_id] += 1
                overlaps.by_instance[name] += 1
                overlaps.most = max(overlaps.most, overlaps.under_way[email.notification_id])
                try:
                    return await inner.deliver(email)
                finally:
                    overlaps.under_way[email.notification_id] -= 1

        return Watched()


async def test_two_workers_passing_at_the_same_instant_share_the_work(
    quick: Settings, raw_database: Any
) -> None:
    # The same property as above, with both passes started together every time, so
    # every claim races another one (a claim that is not one atomic update loses here).
    shared = WrappedDatabase(raw_database, interleave=True, seed=11)
    async with serving(MailServer(script=["451 4.3.0 busy", "451 4.3.0 busy"])) as mail:
        watch = Overlaps()
        a = await make_api(quick, shared, transport=watch.around("a", smtp(mail.port)))
        b = await make_api(replace(quick, seed_demo=False), shared,
                           transport=watch.around("b", smtp(mail.port)))  # fmt: skip
        notes = [note for _, note in [await send_info(a, index) for index in range(8)]]
        made = []
        for _ in range(3):
            made.append(
                await asyncio.gather(a.services.delivery.run_once(), b.services.delivery.run_once())
            )
        docs = await all_settled(raw_database, [raw_id(n) for n in notes])
    # Retries are due at once (base 0), so what one worker leaves RETRYING the other may
    # take in the same round: 16 retries in all, each made once, by one worker or the other.
    assert sum(map(sum, made)) == 16 and made[-1] == [0, 0]
    assert watch.most == 1, "two hand-overs of one email were under way at once"
    assert watch.by_instance["b"] > 0 and watch.by_instance["a"] > 8, "both took a share"
    assert sorted((d["status"], d["attempts"]) for d in docs) == [("SENT", 3)] * 8
    assert mail.data_commands == {message_id_of(n): 3 for n in notes}
    for api in (a, b):
        await api.client.aclose()

"""The connection caps (app.admission): in all, per address (an IPv6 /64 as one, trusted
proxies exempt), given back on close; refusals counted each and logged at most once per
report period. Served end to end in tests/test_server.py."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

import pytest

from app.admission import PER_ADDRESS, REPORT_SECONDS, TOTAL, ConnectionGate, Refusals


def test_past_the_total_a_connection_is_refused_until_one_closes() -> None:
    gate = ConnectionGate(total=3, per_address=3)
    assert [gate.enter(n, f"192.0.2.{n}") for n in range(3)] == [None, None, None]
    assert gate.enter(3, "192.0.2.3") == TOTAL
    assert gate.open() == 3  # the refused one was not counted
    gate.leave(0)
    assert gate.enter(3, "192.0.2.3") is None
    assert gate.open() == 3


def test_one_address_is_capped_and_others_are_not() -> None:
    gate = ConnectionGate(total=10, per_address=2)
    assert gate.enter("a", "192.0.2.1") is None
    assert gate.enter("b", "192.0.2.1") is None
    assert gate.enter("c", "192.0.2.1") == PER_ADDRESS
    assert gate.enter("d", "192.0.2.2") is None
    assert (gate.open_from("192.0.2.1"), gate.open_from("192.0.2.2")) == (2, 1)
    gate.leave("a")
    gate.leave("a")  # a second close changes nothing
    gate.leave("never counted")
    assert gate.open_from("192.0.2.1") == 1
    assert gate.enter("c", "192.0.2.1") is None


def test_an_ipv6_address_counts_by_its_64() -> None:
    gate = ConnectionGate(total=10, per_address=2)
    assert gate.enter(1, "2001:db8:1:2::1") is None
    assert gate.enter(2, "2001:db8:1:2:ffff::9") is None
    assert gate.enter(3, "2001:db8:1:2::77") == PER_ADDRESS  # the same /64
    assert gate.enter(4, "2001:db8:1:3::1") is None  # the next /64
    # An IPv4 client of a dual-stack socket counts as its IPv4 address.
    assert gate.enter(5, "::ffff:192.0.2.1") is None
    assert gate.open_from("192.0.2.1") == 1


def test_trusted_proxies_are_exempt_from_the_address_cap_not_the_total() -> None:
    proxies = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
    gate = ConnectionGate(total=6, per_address=2, exempt=proxies)
    assert [gate.enter(n, "10.1.2.3") for n in range(3)] == [None, None, None]
    assert [gate.enter(n, "2001:db8::5") for n in range(3, 6)] == [None, None, None]
    assert gate.enter(6, "10.1.2.3") == TOTAL
    gate.leave(0)
    assert gate.enter(6, "::ffff:10.1.2.3") is None  # mapped: still the trusted proxy
    for n in (1, 2, 3):
        gate.leave(n)
    assert gate.enter(7, "192.0.2.1") is None
    assert gate.enter(8, "192.0.2.1") is None
    assert gate.enter(9, "192.0.2.1") == PER_ADDRESS  # an untrusted address is capped


def test_the_address_cap_never_exceeds_the_total() -> None:
    assert ConnectionGate(total=4, per_address=100).per_address == 4


class Timers:
    """A stand-in for the event loop's `call_later`: callbacks run when the test says."""

    def __init__(self) -> None:
        self.waiting: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> object:
        self.waiting.append((delay, callback))
        return None

    def fire(self) -> None:
        (_, callback), *self.waiting = self.waiting
        callback()


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "confid.server"]


def test_refusals_are_counted_each_and_logged_once_per_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "confid.server")
    counted: list[str] = []
    timers = Timers()
    refusals = Refusals(ConnectionGate(4096, 256), count=counted.append, schedule=timers)

    refusals.note(PER_ADDRESS, "192.0.2.7")  # the first is logged at once
    (first,) = lines(caplog)
    assert "refused 1 new connection(s)" in first
    assert "CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS (256 from one address" in first
    assert "most from 192.0.2.7: 1" in first
    assert [delay for delay, _ in timers.waiting] == [REPORT_SECONDS]

    for _ in range(1000):  # a flood within the period: counted, not logged
        refusals.note(PER_ADDRESS, "192.0.2.8")
    for _ in range(3):
        refusals.note(TOTAL, "198.51.100.1")
    assert len(lines(caplog)) == 1
    assert counted.count(PER_ADDRESS) == 1001 and counted.count(TOTAL) == 3

    timers.fire()  # the period ends: one line with everything since the last
    summary = lines(caplog)[1]
    assert "refused 1003 new connection(s)" in summary
    assert "3 at CONFID_HTTP_MAX_CONNECTIONS (4096 open)" in summary
    assert "1000 at CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS" in summary
    assert "most from 192.0.2.8: 1000" in summary
    assert len(timers.waiting) == 1

    timers.fire()  # a quiet period: no line, and no timer left
    assert len(lines(caplog)) == 2 and timers.waiting == []
    refusals.note(TOTAL, None)  # so the next refusal is logged at once
    assert len(lines(caplog)) == 3
    assert "PER_ADDRESS" not in lines(caplog)[2]

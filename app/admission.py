"""Which TCP connections this process keeps: at most CONFID_HTTP_MAX_CONNECTIONS open in
all, and at most CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS from one client address; a
connection past either is closed as soon as it is made (`app.server` applies this).

A connection counts from its accept until it closes, as HTTP and, after an upgrade, as a
websocket. The address is the TCP peer's (an IPv6 address counts by its /64, as the
websocket limits count); peers in CONFID_TRUSTED_PROXIES are exempt from the per-address
cap, since every client behind them arrives from their address, but not from the total.
Refusals are reported by `Refusals`: counted per limit, logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

from app.domain.addresses import Network, address_key, in_networks

log = logging.getLogger("confid.server")

TOTAL = "connections"  # the limits' names, as metrics and logs give them
PER_ADDRESS = "connections_per_address"

REPORT_SECONDS = 60.0


class ConnectionGate:
    """The connections open in this process, in all and by address key."""

    def __init__(self, total: int, per_address: int, exempt: Sequence[Network] = ()) -> None:
        self.total = total
        self.per_address = min(per_address, total)
        self.exempt = tuple(exempt)
        self._keys: dict[Hashable, str] = {}  # open connection -> its address key
        self._by_key: Counter[str] = Counter()

    def enter(self, connection: Hashable, address: str | None) -> str | None:
        """Count `connection` from `address` as open and return None, or return the name
        of the limit that refuses it (TOTAL, PER_ADDRESS) and count nothing."""
        if len(self._keys) >= self.total:
            return TOTAL
        key = address_key(address)
        if self._by_key[key] >= self.per_address and not self._exempt(address):
            return PER_ADDRESS
        self._keys[connection] = key
        self._by_key[key] += 1
        return None

    def leave(self, connection: Hashable) -> None:
        """`connection` closed (nothing happens for one not counted, or counted out)."""
        key = self._keys.pop(connection, None)
        if key is None:
            return
        self._by_key[key] -= 1
        if self._by_key[key] <= 0:
            del self._by_key[key]

    def open(self) -> int:
        """Connections open in all."""
        return len(self._keys)

    def open_from(self, address: str | None) -> int:
        """Connections open from `address` (by its key: an IPv6 /64 as a whole)."""
        return self._by_key[address_key(address)]

    def _exempt(self, address: str | None) -> bool:
        return in_networks(address, self.exempt)


Schedule = Callable[[float, Callable[[], None]], object]


def _call_later(delay: float, callback: Callable[[], None]) -> object:
    return asyncio.get_running_loop().call_later(delay, callback)


class Refusals:
    """Refused connections: each is counted (`count`, the metrics' `refused`) at once;
    the log gets a line for the first, then at most one line every REPORT_SECONDS with
    what was refused since the last (a flood does not flood the log).

    `schedule(delay, callback)` is the event loop's `call_later` (tests pass their own)."""

    def __init__(
        self,
        gate: ConnectionGate,
        count: Callable[[str], None] | None = None,
        schedule: Schedule = _call_later,
    ) -> None:
        self.gate = gate
        self._count = count
        self._schedule = schedule
        self._pending: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()  # refused by PER_ADDRESS, by key
        self._quiet = False  # a report was made less than REPORT_SECONDS ago

    def note(self, limit: str, address: str | None) -> None:
        """One connection from `address` refused by `limit`."""
        if self._count is not None:
            self._count(limit)
        self._pending[limit] += 1
        if limit == PER_ADDRESS:
            self._addresses[address_key(address)] += 1
        if not self._quiet:
            self._report()

    def _report(self) -> None:
        """Log what is pending, then stay quiet for REPORT_SECONDS; when nothing was
        refused by the end of them, the next refusal is logged at once."""
        if not self._pending:
            self._quiet = False
            return
        parts = []
        if total := self._pending[TOTAL]:
            parts.append(f"{total} at CONFID_HTTP_MAX_CONNECTIONS ({self.gate.total} open)")
        if by_address := self._pending[PER_ADDRESS]:
            (top, most), *_ = self._addresses.most_common(1)
            parts.append(
                f"{by_address} at CONFID_HTTP_MAX_CONNECTIONS_PER_ADDRESS "
                f"({self.gate.per_address} from one address; most from {top}: {most})"
            )
        log.warning(
            "refused %d new connection(s), closed as soon as made: %s (further refusals are "
            "reported together, at most one line every %.0f s)",
            sum(self._pending.values()),
            "; ".join(parts),
            REPORT_SECONDS,
        )
        self._pending.clear()
        self._addresses.clear()
        self._quiet = True
        self._schedule(REPORT_SECONDS, self._report)

"""How much of one process a websocket caller may hold: sockets per token, sockets per
address that have not sent `connection_init` yet, and subscriptions per token.

The counts are this process's own (like the rate limits): N processes behind a load
balancer allow N times as much in all. `app.api.live` applies them:

- a socket arrives: its address (`client_ip`, after CONFID_TRUSTED_PROXIES; an IPv6
  address counts by its /64, the share of a network one host usually holds) may have at
  most `unauthenticated_per_address` sockets waiting for `connection_init`;
- `connection_init` authenticated it: it leaves its address's count and joins its token's,
  of which there may be at most `per_token`;
- each subscription holds one of its token's `TokenSlots` while it runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.domain.access import Principal
from app.domain.addresses import address_key
from app.domain.errors import BadRequest


class SocketGate:
    """Websockets open in this process: waiting ones by address, authenticated ones by
    caller (`Principal.key`, as the rate limits and `TokenSlots` count: a token's name, or a
    signed-in person's issuer and subject)."""

    def __init__(self, per_token: int, unauthenticated_per_address: int) -> None:
        self.per_token = per_token
        self.unauthenticated_per_address = unauthenticated_per_address
        self._waiting: Counter[str] = Counter()
        self._open: Counter[str] = Counter()

    def arrive(self, address: str | None) -> SocketPass | None:
        """A place for a new socket from `address` until it authenticates; None when the
        address has `unauthenticated_per_address` sockets waiting already."""
        key = address_key(address)
        if self._waiting[key] >= self.unauthenticated_per_address:
            return None
        self._waiting[key] += 1
        return SocketPass(self, key)

    def open_for(self, principal: Principal) -> int:
        """Authenticated sockets of `principal` (counted by its `key`)."""
        return self._open[principal.key]

    def waiting_from(self, address: str | None) -> int:
        """Sockets from `address` that have not authenticated yet."""
        return self._waiting[address_key(address)]

    def _enter(self, name: str) -> bool:
        if self._open[name] >= self.per_token:
            return False
        self._open[name] += 1
        return True

    @staticmethod
    def _release(counts: Counter[str], key: str) -> None:
        counts[key] -= 1
        if counts[key] <= 0:
            del counts[key]


class SocketPass:
    """One socket's place in its `SocketGate`: first among its address's waiting sockets,
    then among its token's. `leave` gives back whichever it holds (at most once)."""

    def __init__(self, gate: SocketGate, address: str) -> None:
        self._gate = gate
        self._address: str | None = address
        self._key: str | None = None

    def authenticated(self, principal: Principal) -> bool:
        """Move from the address's count to the token's; False (and the socket holds
        nothing any more) when the token has `per_token` sockets open already."""
        self._leave_address()
        if not self._gate._enter(principal.key):
            return False
        self._key = principal.key
        return True

    def leave(self) -> None:
        self._leave_address()
        if self._key is not None:
            self._gate._release(self._gate._open, self._key)
            self._key = None

    def _leave_address(self) -> None:
        if self._address is not None:
            self._gate._release(self._gate._waiting, self._address)
            self._address = None


class TokenSlots:
    """Subscriptions open per caller (`Principal.key`) in this process, bounded."""

    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        self._open: Counter[str] = Counter()

    def check(self, principal: Principal) -> None:
        """BadRequest when `principal` has no slot left."""
        if self._open[principal.key] >= self.per_token:
            raise BadRequest(
                f"At most {self.per_token} subscriptions may be open at once for one token; "
                "complete one first."
            )

    @asynccontextmanager
    async def hold(self, principal: Principal) -> AsyncIterator[None]:
        """A slot for one subscription of `principal`, for as long as it runs."""
        self.check(principal)
        self._open[principal.key] += 1
        try:
            yield
        finally:
            self._open[principal.key] -= 1
            if not self._open[principal.key]:
                del self._open[principal.key]

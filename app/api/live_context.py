"""The context of one websocket connection: who it is, the limits it shares with every
other socket of the app, and how confid closes it on its own (`app.api.live` speaks the
protocol; `app.api.subscriptions` resolves the subscriptions in this context)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from app.api.context import Context
from app.api.live_limits import SocketGate, TokenSlots
from app.api.throttle import ApiLimits
from app.domain.access import Principal
from app.domain.errors import BadRequest

log = logging.getLogger("confid.live")

NORMAL = 1000  # RFC 6455: done (an idle socket)
UNAUTHORIZED = 4401  # graphql-transport-ws: no usable token (or it expired)
FORBIDDEN = 4403  # graphql-transport-ws: a token without a role
TOO_MANY = 4429  # as the protocol's own "too many": this token holds enough sockets
TRY_AGAIN_LATER = 1013  # RFC 6455: a temporary condition (slow subscriber, provider down)
EXPIRED = "This token has expired; connect again with a new one."


def _no_count(limit: str) -> None:
    """Refusals are not counted (no metrics)."""


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """What every websocket of one app shares: its limits and the clock of token expiry."""

    slots: TokenSlots
    sockets: SocketGate
    per_connection: int = 10
    idle_seconds: float = 60.0
    wall: Callable[[], float] = time.time  # the clock token expiry is read from
    refused: Callable[[str], None] = _no_count  # counts a refusal by the named limit


class LiveConnection:
    """How confid closes a socket on its own (once): a subscriber that fell behind, a
    token that expired, a socket left idle."""

    def __init__(self, close: Callable[[int, str], Awaitable[None]]) -> None:
        self._close = close
        self._closing: asyncio.Task[None] | None = None

    def close(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._closed(code, reason[:120]))

    def drop(self, reason: str) -> None:
        if self._closing is None:
            log.warning("closing a live connection: %s", reason)
        self.close(TRY_AGAIN_LATER, reason)

    async def _closed(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError):  # the socket was closed meanwhile
            await self._close(code, reason)


@dataclass(slots=True)
class LiveContext(Context):
    """The context of one websocket connection, shared by its subscriptions."""

    websocket: WebSocket | None = None
    authenticate: Callable[[str], Awaitable[Principal]] | None = None
    policy: LivePolicy | None = None
    limits: ApiLimits | None = None  # the token buckets that subscription starts draw on
    connection: LiveConnection | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)

    @property
    def slots(self) -> TokenSlots | None:
        return self.policy.slots if self.policy is not None else None

    def forget_loaded(self) -> None:
        """Start each event with empty loaders: a connection lives for hours, and users
        and entries change under it."""
        self._users = self._bridges = self._events = self._latest = None

    def slots_free(self) -> None:
        """BadRequest unless the caller may open one more subscription."""
        if self.slots is None or self.principal is None:
            raise BadRequest("Subscriptions run over a websocket (graphql-transport-ws).")
        self.slots.check(self.principal)

    @property
    def live(self) -> LiveConnection:
        if self.connection is None or self.slots is None:
            raise BadRequest("Subscriptions run over a websocket (graphql-transport-ws).")
        return self.connection

    def expired(self) -> bool:
        """True once the caller's token has expired (it was checked at `connection_init`)."""
        expires = self.principal.expires if self.principal is not None else None
        return expires is not None and self.policy is not None and self.policy.wall() >= expires

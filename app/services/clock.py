"""The injectable clock: server UTC, cut to what MongoDB keeps (milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.instants import to_millis_utc

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, in UTC, at millisecond precision."""
    return to_millis_utc(datetime.now(UTC))

"""When a temporarily refused email is tried again: exponential backoff with jitter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

JITTER = 0.2  # each wait is the nominal one times a factor drawn from [0.8, 1.2]
MAX_WAIT = timedelta(hours=6)  # no single wait is longer, however many attempts are allowed


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many hand-over attempts an email gets and how far apart they are.

    After the n-th attempt failed temporarily, the next one waits
    `base * 2**(n-1)`, scaled by a jitter factor in [1 - JITTER, 1 + JITTER] so that the
    emails caught by one outage do not all come back at the same instant. With the
    defaults (8 attempts, base 60 s) the waits are 1, 2, 4, ... 64 minutes: the eighth and
    last attempt comes about 2 hours (127 minutes nominal) after the first.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=60)

    def exhausted(self, attempts: int) -> bool:
        """True when `attempts` attempts were made and no more are allowed."""
        return attempts >= self.max_attempts

    def wait_after(self, attempt: int, unit_random: float) -> timedelta:
        """The wait after the `attempt`-th (1-based) failed attempt; `unit_random` is a
        draw from [0, 1) (injectable, so tests and the schedule are deterministic)."""
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        if not 0.0 <= unit_random <= 1.0:
            raise ValueError("unit_random is a draw from [0, 1)")
        factor = 1.0 - JITTER + 2 * JITTER * unit_random
        # Capped as seconds, before a (possibly huge) timedelta is ever built.
        nominal = self.base.total_seconds() * 2 ** min(attempt - 1, 64)
        return timedelta(seconds=min(nominal * factor, MAX_WAIT.total_seconds()))

    def nominal_horizon(self) -> timedelta:
        """From the first attempt to the last, without jitter."""
        return sum((self.wait_after(n, 0.5) for n in range(1, self.max_attempts)), timedelta())

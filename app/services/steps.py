"""The named steps of a change, and the fault hook tests use to stop a change between them.

(Not to be confused with the audit trail's signed *checkpoints*.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum


class Step(Enum):
    """Points in a change after which a process could die."""

    LOCKED = "locked"  # the user's lock (with the intent) is taken
    CLAIMED = "claimed"  # the new ID is reserved in the registry
    COMMITTED = "committed"  # the user document carries the new ID
    RETIRED = "retired"  # the old ID is retired, the new one active
    AUDITED = "audited"  # the audit entry is appended
    RECORDED = "recorded"  # the notification is recorded
    UNLOCKED = "unlocked"  # the lock is released
    DELIVERED = "delivered"  # the notification was handed to the transport


FaultHook = Callable[[Step], Awaitable[None]]


async def no_faults(step: Step) -> None:
    """Production: nothing happens between steps."""

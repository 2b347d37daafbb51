"""Time-ordered ids that also order records made within one millisecond."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class MonotonicIds:
    """Ids that sort in creation order: the UTC time to the microsecond, a counter for ids
    made at the same (or an earlier) time, and a random tag for this process.

    Within one process every id is greater than the one before, even when the clock stands
    still or steps back; across processes they sort by time. (Ids written before this
    scheme, `<time>-<random>`, sort before any new id of the same time.)
    """

    def __init__(self) -> None:
        self._tag = secrets.token_hex(3)
        self._last = ("", 0)

    def next(self, at: datetime) -> str:
        """A new id for a record made at `at` (the record's own timestamp)."""
        if at.tzinfo is not None:
            at = at.astimezone(UTC)
        stamp = f"{at:%Y%m%d%H%M%S%f}"
        last_stamp, count = self._last
        self._last = (stamp, 0) if stamp > last_stamp else (last_stamp, count + 1)
        stamp, count = self._last
        return f"{stamp}{count:06d}{self._tag}"

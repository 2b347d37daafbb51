"""Classifying failures for callers: is the database away, or is this a bug?"""

from __future__ import annotations

from app.store.database import is_unavailable


def database_unavailable(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) means the database could not be reached."""
    seen = 0
    while error is not None and seen < 10:
        if is_unavailable(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False

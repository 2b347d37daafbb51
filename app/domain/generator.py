"""The secure conference-ID generator: uniform over IDs that pass the policy."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from app.domain.policy import is_allowed

RandomBelow = Callable[[int], int]


def generate_conference_id(length: int, randbelow: RandomBelow = secrets.randbelow) -> str:
    """Draw uniformly from all `length`-digit strings, rejecting weak ones.

    Rejection sampling keeps the result uniform over the allowed space; whether an ID is
    free is decided by the store when it is claimed (the caller draws again on a clash),
    which keeps the draw uniform over allowed, unused IDs too.
    """
    if length < 4:
        raise ValueError("conference IDs shorter than 4 digits are not supported")
    space = 10**length
    while True:
        candidate = str(randbelow(space)).zfill(length)
        if is_allowed(candidate, length):
            return candidate

"""Step 2 of a change, the claim: reserve the new conference ID in the registry.

The registry's primary key `<bridge>:<id>` is the uniqueness guarantee: a second claim of
the same ID fails whatever the timing, so claiming is how "is it free?" is answered.
"""

from __future__ import annotations

from datetime import datetime

from app.domain import rules
from app.domain.errors import Problem, Rejected
from app.domain.generator import RandomBelow, generate_conference_id
from app.domain.models import AuditAction, Bridge
from app.domain.operation import Intent
from app.store.registry import ConferenceIdRegistry, IdState, Registration

MAX_CANDIDATES = 50


def taken_problem(registration: Registration) -> Problem:
    """Why a claimed ID cannot be had: it is retired, or someone holds it."""
    return rules.retired() if registration.state is IdState.RETIRED else rules.in_use()


class Claims:
    """Reserves generated or chosen IDs for a change."""

    def __init__(self, registry: ConferenceIdRegistry, randbelow: RandomBelow) -> None:
        self._registry = registry
        self._randbelow = randbelow

    async def claim(self, intent: Intent, bridge: Bridge, now: datetime) -> str | None:
        """The ID reserved for the change (None for a send, which changes no ID): the
        chosen one, or one drawn from `secrets` for an assign or reset.

        Raises Rejected: IN_USE or RETIRED for a chosen ID, CONFLICT when no free ID was
        drawn in MAX_CANDIDATES attempts.
        """
        if intent.action is AuditAction.SEND_INFO:
            return None
        if intent.new_conference_id is not None:  # a SET, or a seeded ASSIGN: the chosen ID
            taken = await self._registry.claim(
                bridge.id, intent.new_conference_id, intent.user_id, intent.operation_id, now
            )
            if taken is not None:
                raise Rejected([taken_problem(taken)])
            return intent.new_conference_id
        # Draw until a free ID is claimed; a clash with an ID in use or retired is simply
        # another draw (uniform over the free, allowed IDs).
        for _ in range(MAX_CANDIDATES):
            candidate = generate_conference_id(bridge.conference_id_length, self._randbelow)
            clash = await self._registry.claim(
                bridge.id, candidate, intent.user_id, intent.operation_id, now
            )
            if clash is None:
                return candidate
        raise Rejected([rules.conflict()])

    async def availability(
        self, bridge: Bridge, conference_id: str, now: datetime
    ) -> list[Problem]:
        """The dry run of a claim: IN_USE or RETIRED when the ID could not be had now."""
        taken = await self._registry.get(bridge.id, conference_id)
        if taken is None or await self._registry.is_free_again(taken, now):
            return []
        return [taken_problem(taken)]

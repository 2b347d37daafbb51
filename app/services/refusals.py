"""The one refusal path: every refused attempt that passed authorization is audited once.

Steps of the change path raise `Rejected(problems)`; `Refusals.refuse` turns it into the
REJECTED entry and the outcome the caller sees. Nothing else changes.
"""

from __future__ import annotations

from app.domain.entry import AuditDraft
from app.domain.errors import Problem
from app.domain.models import AuditAction, AuditOutcome, User
from app.domain.operation import ChangeRequest
from app.domain.policy import reason_problems
from app.services.chain import AuditChain
from app.services.clock import Clock
from app.services.outcomes import ChangeOutcome
from app.store.users import UserRepository

ATTEMPTED_ID_MAX = 32
TARGET_MAX = 200


def _bounded(text: str | None, limit: int) -> str | None:
    """Refused input as the trail keeps it: bounded whatever was sent ("" is none)."""
    if not text:
        return None
    return text if len(text) <= limit else text[:limit] + "…"


class Refusals:
    """Appends the REJECTED entry of a refused request."""

    def __init__(self, users: UserRepository, chain: AuditChain, clock: Clock) -> None:
        self._users = users
        self._chain = chain
        self._clock = clock

    async def refuse(
        self, request: ChangeRequest, problems: list[Problem], user: User | None = None
    ) -> ChangeOutcome:
        """Record the refusal (reading the user when the caller has not) and report it."""
        if user is None:
            user = await self._users.get(request.user_id)
        entry = await self._chain.append(self._draft(request, problems, user))
        return ChangeOutcome(user=user, audit_event=entry, problems=problems)

    def _draft(
        self, request: ChangeRequest, problems: list[Problem], user: User | None
    ) -> AuditDraft:
        audio = user.audio if user else None
        sends = request.action is AuditAction.SEND_INFO
        current = audio.conference_id if audio else None
        return AuditDraft(
            occurred_at=self._clock(),
            action=request.action,
            outcome=AuditOutcome.REJECTED,
            error_codes=tuple(dict.fromkeys(p.code for p in problems)),
            user_id=user.id if user else _bounded(request.user_id, TARGET_MAX),
            bridge_id=audio.bridge_id if audio else None,
            # SEND_INFO keeps the ID the email would carry where a sent one keeps it.
            previous_conference_id=None if sends else current,
            new_conference_id=current
            if sends
            else _bounded(request.conference_id, ATTEMPTED_ID_MAX),
            meta=request.meta,
            reason=request.reason if not reason_problems(request.reason) else None,
            # A refused send addressed nobody: the entry lists no recipients (issue 11).
            recipients=(),
            to_non_primary=False,
            operation_id=request.operation_id,
            incident_id=request.incident_id,
        )

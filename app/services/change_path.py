"""The change path: one request through its named steps, with no multi-document transaction.

    1. lock     the user document gets `lock` = the intent (who, what, why, from where),
                and is read in the same atomic update: the change applies to that state
    2. claim    the new ID is inserted into the registry (the primary key refuses a twin;
                a generated ID that clashes is simply drawn again)
    3. commit   one update sets the user's new ID and `lock.committed` (with the old
                and new IDs and the bridge, for recovery)               <- commit point
    4. retire   the old ID is retired, the new one marked active
    5. audit    the SUCCESS entry is appended (unique per operation)
    6. record   the notification is recorded (unique per operation)
    7. unlock   the lock is removed
    8. deliver  the email is handed to the transport, at most once

Steps 4-8 are `Completion.finish`, which recovery runs for a committed intent found on a
stale lock; an uncommitted one is undone (reservation released, lock removed). So a
process may die between any two steps and the ID, registry, trail and records still end
up agreeing. A refusal at any step raises `Rejected`, is unwound, and is audited once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.domain import rules
from app.domain.errors import Problem, Rejected
from app.domain.models import AudioConferencing, AuditAction, Bridge, User
from app.domain.operation import ChangeRequest, Intent
from app.services.claims import Claims
from app.services.clock import Clock
from app.services.completion import Completion
from app.services.locks import UserLocks
from app.services.outcomes import ChangeOutcome
from app.services.refusals import Refusals
from app.services.steps import FaultHook, Step
from app.store.bridges import BridgeRepository
from app.store.notifications import NotificationRepository
from app.store.registry import ConferenceIdRegistry
from app.store.users import UserRepository


class ChangePath:
    """Runs requests through the steps above."""

    def __init__(
        self,
        *,
        users: UserRepository,
        bridges: BridgeRepository,
        registry: ConferenceIdRegistry,
        notes: NotificationRepository,
        claims: Claims,
        locks: UserLocks,
        completion: Completion,
        refusals: Refusals,
        clock: Clock,
        fault: FaultHook,
    ) -> None:
        self._users = users
        self._bridges = bridges
        self._registry = registry
        self._notes = notes
        self._claims = claims
        self._locks = locks
        self._completion = completion
        self._refusals = refusals
        self._clock = clock
        self._fault = fault

    async def run(self, request: ChangeRequest) -> ChangeOutcome:
        """Lock, validate, claim, commit and finish; or refuse (and audit) once."""
        user: User | None = None
        try:
            bridge = await self._requested_bridge(request)
            if rules.input_problems(request):  # refused whatever the user's state: no lock
                user = await self._users.get(request.user_id)
                raise Rejected(rules.validate(request, user, bridge or await self._bridge_of(user)))
            async with self._locks.turn(request.user_id):
                user, intent = await self._locks.acquire(Intent.of(request, self._clock()))
                committed, user, bridge = await self._apply(request, intent, user, bridge)
        except Rejected as refusal:
            return await self._refusals.refuse(request, refusal.problems, user)
        return await self._completion.finish(committed, user, bridge)

    async def _requested_bridge(self, request: ChangeRequest) -> Bridge | None:
        """The bridge an ASSIGN asks for (or the default one); None for other actions."""
        if request.action is not AuditAction.ASSIGN:
            return None
        if request.bridge_id is None:
            return await self._bridges.default()
        return await self._bridges.get(request.bridge_id)

    async def _bridge_of(self, user: User | None) -> Bridge | None:
        if user is None or user.audio is None:
            return None
        bridge = await self._bridges.get(user.audio.bridge_id)
        if bridge is None:  # pragma: no cover - bridges are never deleted
            raise LookupError(f"user {user.id} is on a bridge that does not exist")
        return bridge

    async def _apply(
        self, request: ChangeRequest, intent: Intent, user: User, bridge: Bridge | None
    ) -> tuple[Intent, User, Bridge]:
        """Steps 1-3 under the user's lock: validate against the locked state, claim,
        commit. Anything but a completed commit is unwound before it propagates."""
        new_id: str | None = None
        try:
            await self._fault(Step.LOCKED)
            bridge = bridge or await self._bridge_of(user)
            problems = rules.validate(request, user, bridge) or await self._resent(request)
            if problems or bridge is None:
                raise Rejected(problems)
            now = self._clock()
            new_id = await self._claims.claim(intent, bridge, now)
            if new_id is not None:
                await self._fault(Step.CLAIMED)
            committed, audio = await self._commit(intent, user, bridge, new_id, now)
        except Rejected:
            if new_id is not None:
                await self._registry.release(intent.operation_id)
            await self._users.unlock(user.id, intent.operation_id)
            raise
        except Exception:
            # Undo what this operation reserved, then report. If the commit did land (a
            # driver can fail after the write), `undo` leaves it for recovery to finish.
            await self._completion.undo_quietly(user.id, intent.operation_id)
            raise
        await self._fault(Step.COMMITTED)
        return committed, replace(user, audio=audio or user.audio), bridge

    async def _resent(self, request: ChangeRequest) -> list[Problem]:
        """A FAILED email is sent again once: asked under the user's lock, so two resends
        of it (from any process) cannot both pass."""
        if request.resend_of is None:
            return []
        again = await self._notes.resend_of(request.resend_of)
        return [rules.already_resent(again.id, again.status)] if again else []

    async def _commit(
        self, intent: Intent, user: User, bridge: Bridge, new_id: str | None, now: datetime
    ) -> tuple[Intent, AudioConferencing | None]:
        """Step 3, the commit point: the new ID and `lock.committed` in one update."""
        current = user.audio.conference_id if user.audio else None
        committed = replace(
            intent,
            bridge_id=bridge.id,
            previous_conference_id=current,
            new_conference_id=new_id or current,
            committed=True,
        )
        audio = AudioConferencing(new_id, bridge.id, now) if new_id is not None else None
        if not await self._users.commit(committed, audio):
            raise Rejected([rules.conflict()])  # the lock was taken from us meanwhile
        return committed, audio

"""Finishing and undoing changes: the steps after the commit point, shared by the request
path and recovery, and the repair of a change whose process died.

A committed intent is *finished* (retire → audit → record → unlock → deliver); every one
of those writes is idempotent per operation, so finishing twice is harmless. An
uncommitted one is *undone* (abort → release → unlock), atomically against its commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.entry import AuditDraft, AuditEntry
from app.domain.models import (
    AuditAction,
    AuditOutcome,
    Bridge,
    Notification,
    NotificationKind,
    User,
)
from app.domain.operation import Intent
from app.services.chain import AuditChain
from app.services.clock import Clock
from app.services.observer import NO_OBSERVER, Observer
from app.services.outbox import Outbox
from app.services.outcomes import ChangeOutcome
from app.services.steps import FaultHook, Step
from app.store.bridges import BridgeRepository
from app.store.registry import ConferenceIdRegistry
from app.store.users import UserRepository

log = logging.getLogger("confid.completion")


@dataclass(slots=True)
class Repairs:
    """What repairs of stale changes did (summed over a sweep)."""

    finished: int = 0
    undone: int = 0


class Completion:
    """Finish, undo, and repair changes of users."""

    def __init__(
        self,
        *,
        users: UserRepository,
        bridges: BridgeRepository,
        registry: ConferenceIdRegistry,
        chain: AuditChain,
        outbox: Outbox,
        clock: Clock,
        grace: timedelta,
        fault: FaultHook,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self._users = users
        self._observer = observer
        self._bridges = bridges
        self._registry = registry
        self._chain = chain
        self._outbox = outbox
        self._clock = clock
        self.grace = grace
        self._fault = fault

    # --- finishing a committed change -------------------------------------------------

    async def finish(
        self, intent: Intent, user: User | None = None, bridge: Bridge | None = None
    ) -> ChangeOutcome:
        """Steps 4-8 for a committed intent. A request passes the user (as committed) and
        the bridge it already holds; recovery lets them be read."""
        assert intent.committed and intent.bridge_id is not None
        bridge = bridge or await self._bridges.get(intent.bridge_id)
        user = user or await self._users.get(intent.user_id)
        if bridge is None or user is None:
            raise LookupError(f"operation {intent.operation_id} refers to a missing user/bridge")
        now = self._clock()
        await self._retire(intent, bridge, now)
        await self._fault(Step.RETIRED)
        entry = await self._audit(intent, user, bridge, now)
        await self._fault(Step.AUDITED)
        note = await self._record(intent, user, bridge, entry)
        await self._fault(Step.RECORDED)
        await self._users.unlock(user.id, intent.operation_id)
        await self._fault(Step.UNLOCKED)
        note = await self._outbox.deliver(note)
        await self._fault(Step.DELIVERED)
        return ChangeOutcome(user=user, audit_event=entry, notification=note)

    async def _retire(self, intent: Intent, bridge: Bridge, now: datetime) -> None:
        """Retire the old ID for good and mark the new one active (a send changes none)."""
        if intent.action is AuditAction.SEND_INFO:
            return
        if intent.previous_conference_id is not None:
            await self._registry.retire(bridge.id, intent.previous_conference_id, now)
        if intent.new_conference_id is not None:
            await self._registry.activate(bridge.id, intent.new_conference_id, intent.operation_id)

    async def _audit(self, intent: Intent, user: User, bridge: Bridge, now: datetime) -> AuditEntry:
        """Append the SUCCESS entry (one per operation: a second append returns the first)."""
        sends = intent.action is AuditAction.SEND_INFO
        return await self._chain.append(
            AuditDraft(
                occurred_at=now,
                action=intent.action,
                outcome=AuditOutcome.SUCCESS,
                error_codes=(),
                user_id=user.id,
                bridge_id=bridge.id,
                previous_conference_id=None if sends else intent.previous_conference_id,
                new_conference_id=intent.new_conference_id,
                meta=intent.meta,
                reason=intent.reason,
                recipients=_recipients(intent, user) if sends else (),
                to_non_primary=_to_non_primary(intent, user),
                operation_id=intent.operation_id,
                incident_id=intent.incident_id,
            )
        )

    async def _record(
        self, intent: Intent, user: User, bridge: Bridge, entry: AuditEntry
    ) -> Notification:
        """Record the email (one per operation), SUPPRESSED when it is not to be sent."""
        assert intent.new_conference_id is not None
        changed = intent.action in (AuditAction.SET, AuditAction.RESET)
        return await self._outbox.record(
            kind=NotificationKind.CONFERENCE_ID_CHANGED
            if changed
            else NotificationKind.CONFERENCE_INFO,
            to=_recipients(intent, user),
            to_primary_address=not _to_non_primary(intent, user),
            display_name=user.display_name,
            conference_id=intent.new_conference_id,
            bridge=bridge,
            suppressed=not intent.send_email,
            audit_sequence=entry.sequence,
            user_id=user.id,
            operation_id=intent.operation_id,
            resend_of=intent.resend_of,
        )

    # --- undoing an uncommitted change --------------------------------------------------

    async def undo(self, user_id: str, operation_id: str) -> bool:
        """Undo a change unless it committed: abort its lock (atomically against the
        commit), release its reservation, then the lock. False when it had committed, so
        it is left to be finished rather than half taken back."""
        if not await self._users.abort(user_id, operation_id):
            return False
        await self._registry.release(operation_id)
        await self._users.unlock(user_id, operation_id)
        return True

    async def undo_quietly(self, user_id: str, operation_id: str) -> None:
        """Undo after a failure; if even that fails, the recovery sweep undoes it later."""
        try:
            await self.undo(user_id, operation_id)
        except Exception:  # the first error is the one to report
            log.warning("could not undo operation %s; the recovery sweep will", operation_id)

    # --- repairing what a dead process left ----------------------------------------------

    def is_stale(self, intent: Intent) -> bool:
        """True once a lock is older than the grace period: its process is presumed dead."""
        return self._clock() - intent.started_at >= self.grace

    async def repair_user(self, user_id: str, repairs: Repairs | None = None) -> None:
        """Finish (committed) or undo (not committed) the stale change holding the user."""
        repairs = repairs if repairs is not None else Repairs()
        while True:
            held = await self._users.locked(user_id)
            if held is None or held.intent is None or not self.is_stale(held.intent):
                return
            intent = held.intent
            if intent.committed:
                log.warning(
                    "recovery: finishing operation %s on user %s", intent.operation_id, user_id
                )
                await self.finish(intent)
                repairs.finished += 1
                self._observer.repaired("finished")
                return
            if await self.undo(user_id, intent.operation_id):
                log.warning("recovery: undid operation %s on user %s", intent.operation_id, user_id)
                repairs.undone += 1
                self._observer.repaired("undone")
                return
            # It committed after we looked: go round and finish it.

    async def repair_operation(self, operation_id: str) -> bool:
        """If this operation's change still holds a user's lock, repair it once stale;
        True when such a lock was found."""
        user_id = await self._users.holder_by_operation(operation_id)
        if user_id is None:
            return False
        await self.repair_user(user_id)
        return True


def _recipients(intent: Intent, user: User) -> tuple[str, ...]:
    return (intent.to_address or user.email,)


def _to_non_primary(intent: Intent, user: User) -> bool:
    return bool(intent.to_address and intent.to_address.casefold() != user.email.casefold())

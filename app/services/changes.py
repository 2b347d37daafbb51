"""Enable, set, reset and send info: the step order of every change lives here.

A change of one user runs in this order, with no multi-document transaction:

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

Steps 4-8 are `finish`, which recovery runs for a committed intent found on a stale lock;
an uncommitted one is undone (reservation released, lock removed). So a process may die
between any two steps and the ID, registry, trail and records still end up agreeing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta

from app.domain.audit import AuditDraft
from app.domain.errors import Problem, UserErrorCode
from app.domain.generator import RandomBelow, generate_conference_id
from app.domain.models import (
    AudioConferencing,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    Bridge,
    Notification,
    NotificationKind,
    RequestMeta,
    User,
)
from app.domain.operation import Intent
from app.domain.policy import email_problems, format_problems, reason_problems
from app.services.clock import Clock
from app.services.outbox import Outbox
from app.services.steps import Step, StepHook
from app.store.audit import AuditRepository
from app.store.bridges import BridgeRepository
from app.store.registry import ConferenceIdRegistry, IdState, Registration
from app.store.users import UserRepository

log = logging.getLogger("confid.changes")

MAX_CANDIDATES = 50
ATTEMPTED_ID_MAX = 32


@dataclass(slots=True)
class ChangeOutcome:
    """What a mutation reports: the user, its audit entry and email, or the problems."""

    user: User | None = None
    audit_event: AuditEntry | None = None
    notification: Notification | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Policy:
    """Tenant-wide behaviour of changes."""

    send_emails_automatically: bool
    lock_wait: timedelta
    stale_after: timedelta


def new_operation_id() -> str:
    """A fresh, unguessable operation id."""
    return "op_" + secrets.token_hex(12)


def _problem(code: UserErrorCode, message: str, *fields: str) -> Problem:
    return Problem(code, message, ("input", *fields) if fields else ())


def _attempted(conference_id: str) -> str | None:
    """A refused ID as the audit trail keeps it (bounded, whatever was sent; "" is none)."""
    if len(conference_id) <= ATTEMPTED_ID_MAX:
        return conference_id or None
    return conference_id[:ATTEMPTED_ID_MAX] + "…"


def _recipients(to_address: str | None, user: User | None) -> tuple[str, ...]:
    """Who a send went (or would have gone) to, as the trail records it, even when refused."""
    if to_address:
        return (to_address[:254],)
    return (user.email,) if user else ()


class ChangeService:
    """The four mutations of SPEC §4 and the completion step recovery shares."""

    def __init__(
        self,
        *,
        users: UserRepository,
        bridges: BridgeRepository,
        registry: ConferenceIdRegistry,
        audit: AuditRepository,
        outbox: Outbox,
        policy: Policy,
        clock: Clock,
        randbelow: RandomBelow,
        checkpoint: StepHook,
    ) -> None:
        self._users = users
        self._bridges = bridges
        self._registry = registry
        self._audit = audit
        self._outbox = outbox
        self._policy = policy
        self._clock = clock
        self._randbelow = randbelow
        self._checkpoint = checkpoint
        self._local_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.repair_stale: Callable[[str], Awaitable[None]] | None = None

    # --- public use cases --------------------------------------------------------------

    async def enable(
        self,
        meta: RequestMeta,
        user_id: str | None,
        bridge_id: str | None,
        send_email: bool | None,
        *,
        op: str | None = None,
    ) -> ChangeOutcome:
        """Enable a user for audio conferencing with a generated ID on a bridge."""
        op = op or new_operation_id()
        user = await self._users.get(user_id) if user_id else None
        bridge = await (
            self._bridges.get(bridge_id) if bridge_id is not None else self._bridges.default()
        )
        problems: list[Problem] = []
        if user is None:
            problems.append(self._not_found())
        elif user.audio is not None:
            problems.append(
                _problem(
                    UserErrorCode.ALREADY_ENABLED,
                    "This user is already enabled for audio conferencing; reset the "
                    "conference ID instead.",
                    "userId",
                )
            )
        if bridge is None:
            problems.append(_problem(UserErrorCode.NOT_FOUND, "No bridge has this id.", "bridgeId"))
        if problems or user is None or bridge is None:
            return await self._reject(op, AuditAction.ASSIGN, meta, user, user_id, problems)
        return await self._change(
            op, AuditAction.ASSIGN, meta, user.id, bridge, None, None, self._email(send_email)
        )

    async def set(
        self,
        meta: RequestMeta,
        user_id: str | None,
        conference_id: str,
        reason: str | None,
        send_email: bool | None,
        *,
        op: str | None = None,
    ) -> ChangeOutcome:
        """Give a user a hand-picked conference ID that passes the policy."""
        op = op or new_operation_id()
        reason = reason or None  # a blank reason is no reason
        attempted = _attempted(conference_id)
        user, bridge, problems = await self._enabled_user(user_id)
        problems += reason_problems(reason)
        if bridge is not None:
            problems += format_problems(conference_id, bridge.conference_id_length)
            if user is not None and user.audio and user.audio.conference_id == conference_id:
                problems.append(self._same_as_current())
        if problems or user is None or bridge is None:
            return await self._reject(
                op, AuditAction.SET, meta, user, user_id, problems, reason, attempted
            )
        return await self._change(
            op, AuditAction.SET, meta, user.id, bridge, conference_id, reason,
            self._email(send_email),
        )  # fmt: skip

    async def reset(
        self,
        meta: RequestMeta,
        user_id: str | None,
        reason: str | None,
        send_email: bool | None,
        *,
        op: str | None = None,
    ) -> ChangeOutcome:
        """Replace a user's ID with a fresh generated one; the old one is retired."""
        op = op or new_operation_id()
        reason = reason or None  # a blank reason is no reason
        problems = reason_problems(reason)
        if problems or not user_id:
            user, _, missing = await self._enabled_user(user_id)
            return await self._reject(
                op, AuditAction.RESET, meta, user, user_id, missing + problems, reason
            )
        # The user is read as the lock is taken: whether they exist and are enabled is
        # judged there, against the state the change will apply to.
        return await self._change(
            op, AuditAction.RESET, meta, user_id, None, None, reason, self._email(send_email)
        )

    async def send_info(
        self,
        meta: RequestMeta,
        user_id: str | None,
        to_address: str | None,
        *,
        op: str | None = None,
        resend_of: str | None = None,
    ) -> ChangeOutcome:
        """Email the user's conference info, to their address or to `to_address`
        (`resend_of`: the FAILED notification this send replaces, linked from the new one)."""
        op = op or new_operation_id()
        problems = (
            email_problems(to_address, ("input", "toAddress")) if to_address is not None else []
        )
        if problems or not user_id:
            user, _, missing = await self._enabled_user(user_id)
            recipients = _recipients(to_address, user)
            return await self._reject(
                op, AuditAction.SEND_INFO, meta, user, user_id, missing + problems,
                recipients=recipients,
            )  # fmt: skip
        return await self._change(
            op, AuditAction.SEND_INFO, meta, user_id, None, None, None, True, to_address,
            resend_of,
        )  # fmt: skip

    async def refuse(
        self,
        op: str,
        action: AuditAction,
        meta: RequestMeta,
        user_id: str | None,
        problems: list[Problem],
    ) -> ChangeOutcome:
        """Refuse an attempt for a reason found outside the policy (audited like any other)."""
        user = await self._users.get(user_id) if user_id else None
        return await self._reject(op, action, meta, user, user_id, problems)

    async def replay(self, op: str) -> ChangeOutcome | None:
        """The outcome an operation had, rebuilt from the trail; None if it left no entry."""
        entry = await self._audit.by_operation(op)
        if entry is None:
            return None
        note = await self._outbox.by_operation(op)
        user = await self._users.get(entry.user_id) if entry.user_id else None
        return ChangeOutcome(user=user, audit_event=entry, notification=note)

    async def repair_operation(self, operation_id: str) -> bool:
        """If this operation's change still holds a user's lock, repair it (finish or undo,
        once stale); True when such a lock was found."""
        user_id = await self._users.holder_by_operation(operation_id)
        if user_id is None:
            return False
        if self.repair_stale is not None:
            await self.repair_stale(user_id)
        return True

    async def check(self, user_id: str | None, conference_id: str) -> list[Problem]:
        """`setConferenceId`'s policy as a dry run: every problem, nothing written."""
        user, bridge, problems = await self._enabled_user(user_id)
        if user is None or bridge is None or user.audio is None:
            return problems
        problems = format_problems(conference_id, bridge.conference_id_length)
        if user.audio.conference_id == conference_id:
            return [*problems, self._same_as_current()]
        if problems:
            return problems
        taken = await self._registry.get(bridge.id, conference_id)
        if taken is not None and not await self._registry.is_free_again(taken, self._clock()):
            problems.append(self._taken(taken))
        return problems

    # --- the change itself ---------------------------------------------------------

    async def _change(
        self,
        op: str,
        action: AuditAction,
        meta: RequestMeta,
        user_id: str,
        bridge: Bridge | None,
        chosen: str | None,
        reason: str | None,
        send_email: bool,
        to_address: str | None = None,
        resend_of: str | None = None,
    ) -> ChangeOutcome:
        """Lock the user (reading them), then do the change against that state.

        `bridge` is None when the change stays on the user's own bridge (reset, send);
        `chosen` is the ID a set asks for (generated for assign and reset).
        """
        intent = Intent(
            operation_id=op,
            action=action,
            user_id=user_id,
            bridge_id=bridge.id if bridge else None,
            new_conference_id=chosen,
            previous_conference_id=None,
            reason=reason,
            meta=meta,
            send_email=send_email,
            to_address=to_address,
            started_at=self._clock(),
            resend_of=resend_of,
        )
        async with self._user_turn(user_id):
            current, missing = await self._lock(intent)
            if current is None:
                user = None if missing else await self._users.get(user_id)
                problem = self._not_found() if missing else self._conflict()
                return await self._reject(
                    op, action, meta, user, user_id, [problem], reason, chosen
                )
            return await self._under_lock(intent, current, bridge, chosen)

    async def _under_lock(
        self, intent: Intent, current: User, bridge: Bridge | None, chosen: str | None
    ) -> ChangeOutcome:
        """Validate against the locked state, claim the new ID, commit, finish."""
        op = intent.operation_id

        sends = intent.action is AuditAction.SEND_INFO
        recipients = _recipients(intent.to_address, current) if sends else ()

        async def refuse(problems: list[Problem]) -> ChangeOutcome:
            await self._users.unlock(current.id, op)
            return await self._reject(
                op, intent.action, intent.meta, current, current.id, problems, intent.reason,
                chosen, recipients,
            )  # fmt: skip

        try:
            await self._checkpoint(Step.LOCKED)
            problems = self._state_problems(intent.action, current)
            if chosen is not None and current.audio and current.audio.conference_id == chosen:
                problems.append(self._same_as_current())
            if problems:
                return await refuse(problems)
            if bridge is None:
                assert current.audio is not None  # enabled: checked just above
                bridge = await self._bridges.get(current.audio.bridge_id)
                if bridge is None:  # pragma: no cover - bridges are never deleted
                    raise LookupError(f"user {current.id} is on a bridge that does not exist")
            now = self._clock()
            new_id = chosen
            if intent.action in (AuditAction.ASSIGN, AuditAction.RESET):
                # Draw until a free ID is claimed; a clash with an ID in use or retired is
                # simply another draw (uniform over the free, allowed IDs).
                new_id = None
                for _ in range(MAX_CANDIDATES):
                    candidate = generate_conference_id(bridge.conference_id_length, self._randbelow)
                    if (
                        await self._registry.claim(bridge.id, candidate, current.id, op, now)
                        is None
                    ):
                        new_id = candidate
                        break
                if new_id is None:
                    return await refuse([self._conflict()])
            elif chosen is not None:
                taken = await self._registry.claim(bridge.id, chosen, current.id, op, now)
                if taken is not None:
                    return await refuse([self._taken(taken)])
            if new_id is not None:
                await self._checkpoint(Step.CLAIMED)
            committed = replace(
                intent,
                bridge_id=bridge.id,
                previous_conference_id=current.audio.conference_id if current.audio else None,
                new_conference_id=new_id
                or (current.audio.conference_id if current.audio else None),
                committed=True,
            )
            audio = AudioConferencing(new_id, bridge.id, now) if new_id is not None else None
            if not await self._users.commit(committed, audio):
                await self._registry.release(op)
                return await self._reject(
                    op, intent.action, intent.meta, current, current.id, [self._conflict()],
                    intent.reason, chosen,
                )  # fmt: skip
        except Exception:
            # Undo what this operation reserved, then report. If the commit did land (a
            # driver can fail after the write), `undo` leaves it for recovery to finish.
            await self._undo_quietly(current.id, op)
            raise
        await self._checkpoint(Step.COMMITTED)
        return await self.finish(committed, replace(current, audio=audio or current.audio), bridge)

    async def finish(
        self, intent: Intent, user: User | None = None, bridge: Bridge | None = None
    ) -> ChangeOutcome:
        """Steps 4-8 for a committed intent; idempotent, shared with recovery.

        A request passes the user (as committed) and bridge it already holds; recovery
        reads them. Every write below is idempotent per operation: retiring and activating
        are conditional updates, and the audit entry and the email record are unique per
        operation (a second append or record returns the first).
        """
        assert intent.committed and intent.bridge_id is not None
        bridge = bridge or await self._bridges.get(intent.bridge_id)
        user = user or await self._users.get(intent.user_id)
        if bridge is None or user is None:
            raise LookupError(f"operation {intent.operation_id} refers to a missing user/bridge")
        now = self._clock()
        changes_id = intent.action is not AuditAction.SEND_INFO
        if changes_id and intent.previous_conference_id is not None:
            await self._registry.retire(bridge.id, intent.previous_conference_id, now)
        if changes_id and intent.new_conference_id is not None:
            await self._registry.activate(bridge.id, intent.new_conference_id, intent.operation_id)
        await self._checkpoint(Step.RETIRED)

        to_non_primary = bool(
            intent.to_address and intent.to_address.casefold() != user.email.casefold()
        )
        recipients = (intent.to_address or user.email,)
        entry = await self._audit.append(
            AuditDraft(
                occurred_at=now,
                action=intent.action,
                outcome=AuditOutcome.SUCCESS,
                error_codes=(),
                user_id=user.id,
                bridge_id=bridge.id,
                previous_conference_id=intent.previous_conference_id if changes_id else None,
                new_conference_id=intent.new_conference_id,
                meta=intent.meta,
                reason=intent.reason,
                recipients=recipients if not changes_id else (),
                to_non_primary=to_non_primary,
                operation_id=intent.operation_id,
            )
        )
        await self._checkpoint(Step.AUDITED)

        kind = (
            NotificationKind.CONFERENCE_ID_CHANGED
            if intent.action in (AuditAction.SET, AuditAction.RESET)
            else NotificationKind.CONFERENCE_INFO
        )
        assert intent.new_conference_id is not None
        note = await self._outbox.record(
            kind=kind,
            to=recipients,
            to_primary_address=not to_non_primary,
            display_name=user.display_name,
            conference_id=intent.new_conference_id,
            bridge=bridge,
            suppressed=not intent.send_email,
            audit_sequence=entry.sequence,
            user_id=user.id,
            operation_id=intent.operation_id,
            resend_of=intent.resend_of,
        )
        await self._checkpoint(Step.RECORDED)
        await self._users.unlock(user.id, intent.operation_id)
        await self._checkpoint(Step.UNLOCKED)
        note = await self._outbox.deliver(note)
        await self._checkpoint(Step.DELIVERED)
        return ChangeOutcome(user=user, audit_event=entry, notification=note)

    async def undo(self, user_id: str, operation_id: str) -> bool:
        """Undo a change unless it committed: abort its lock (atomically against the
        commit), release its reservation, then the lock. False when it had committed, so
        it is left for `finish` (by recovery) rather than half taken back."""
        if not await self._users.abort(user_id, operation_id):
            return False
        await self._registry.release(operation_id)
        await self._users.unlock(user_id, operation_id)
        return True

    async def _undo_quietly(self, user_id: str, operation_id: str) -> None:
        try:
            await self.undo(user_id, operation_id)
        except Exception:  # the sweep undoes it later; the first error is the one to report
            log.warning("could not undo operation %s; the recovery sweep will", operation_id)

    # --- locking ---------------------------------------------------------------------

    @asynccontextmanager
    async def _user_turn(self, user_id: str) -> AsyncIterator[None]:
        """Queue this process's changes of one user in arrival order."""
        lock, holders = self._local_locks.get(user_id, (asyncio.Lock(), 0))
        self._local_locks[user_id] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._local_locks[user_id]
            if holders <= 1:
                del self._local_locks[user_id]
            else:
                self._local_locks[user_id] = (lock, holders - 1)

    async def _lock(self, intent: Intent) -> tuple[User | None, bool]:
        """Take the user's database lock, waiting for another process's change to end.

        Returns (the user as locked, False); (None, True) when there is no such user;
        (None, False) when another change held the lock past the wait.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.lock_wait.total_seconds()
        delay = 0.005
        while True:
            # The lock's age counts from when it is taken, not from when the request came.
            intent = replace(intent, started_at=self._clock())
            locked = await self._users.lock(intent)
            if locked is not None:
                return locked.user, False
            holder = await self._users.locked(intent.user_id)
            if holder is None:
                return None, True
            if holder.intent is None:
                continue  # released between our two reads
            stale = self._clock() - holder.intent.started_at > self._policy.stale_after
            if stale and self.repair_stale is not None:
                await self.repair_stale(intent.user_id)
                continue
            if loop.time() >= deadline:
                return None, False
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.2)

    # --- refusals --------------------------------------------------------------------

    async def _enabled_user(
        self, user_id: str | None
    ) -> tuple[User | None, Bridge | None, list[Problem]]:
        user = await self._users.get(user_id) if user_id else None
        if user is None:
            return None, None, [self._not_found()]
        if user.audio is None:
            return user, None, [self._not_enabled()]
        bridge = await self._bridges.get(user.audio.bridge_id)
        if bridge is None:  # pragma: no cover - bridges are never deleted
            raise LookupError(f"user {user.id} is on a bridge that does not exist")
        return user, bridge, []

    def _state_problems(self, action: AuditAction, current: User) -> list[Problem]:
        if action is AuditAction.ASSIGN and current.audio is not None:
            return [
                _problem(
                    UserErrorCode.ALREADY_ENABLED,
                    "This user was enabled for audio conferencing meanwhile.",
                    "userId",
                )
            ]
        if action is not AuditAction.ASSIGN and current.audio is None:
            return [self._not_enabled()]
        return []

    async def _reject(
        self,
        op: str,
        action: AuditAction,
        meta: RequestMeta,
        user: User | None,
        user_id: str | None,
        problems: list[Problem],
        reason: str | None = None,
        attempted: str | None = None,
        recipients: tuple[str, ...] = (),
    ) -> ChangeOutcome:
        """Append the REJECTED entry for a refused attempt; nothing else changes."""
        codes = tuple(dict.fromkeys(p.code for p in problems))
        target = user.id if user else (user_id[:200] if user_id else None)
        entry = await self._audit.append(
            AuditDraft(
                occurred_at=self._clock(),
                action=action,
                outcome=AuditOutcome.REJECTED,
                error_codes=codes,
                user_id=target,
                bridge_id=user.audio.bridge_id if user and user.audio else None,
                previous_conference_id=user.audio.conference_id if user and user.audio else None,
                new_conference_id=attempted,
                meta=meta,
                reason=reason if reason is not None and not reason_problems(reason) else None,
                recipients=recipients,
                to_non_primary=bool(recipients) and user is not None
                and recipients[0].casefold() != user.email.casefold(),
                operation_id=op,
            )
        )  # fmt: skip
        return ChangeOutcome(user=user, audit_event=entry, problems=problems)

    def _email(self, send_email: bool | None) -> bool:
        return self._policy.send_emails_automatically if send_email is None else send_email

    @staticmethod
    def _not_found() -> Problem:
        return _problem(UserErrorCode.NOT_FOUND, "No user has this id.", "userId")

    @staticmethod
    def _not_enabled() -> Problem:
        return _problem(
            UserErrorCode.NOT_ENABLED,
            "This user is not enabled for audio conferencing, so has no conference ID.",
            "userId",
        )

    @staticmethod
    def _same_as_current() -> Problem:
        return _problem(
            UserErrorCode.SAME_AS_CURRENT,
            "This is already the user's conference ID.",
            "conferenceId",
        )

    @staticmethod
    def _conflict() -> Problem:
        return _problem(
            UserErrorCode.CONFLICT,
            "Another change of this user is in progress; try again in a moment.",
            "userId",
        )

    @staticmethod
    def _taken(taken: Registration) -> Problem:
        if taken.state is IdState.RETIRED:
            return _problem(
                UserErrorCode.RETIRED,
                "This conference ID was retired and can never be assigned again, so that "
                "callers with old invites cannot land in someone else's meeting.",
                "conferenceId",
            )
        return _problem(
            UserErrorCode.IN_USE, "Another user holds this conference ID.", "conferenceId"
        )

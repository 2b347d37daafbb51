"""Idempotency keys: a retried mutation returns its first result and changes nothing more.

`admit` decides what a request with a key may do — run under an operation id, get the
first request's outcome back, or be refused — and `settle` remembers how it ended. It
never runs a change itself: the change service asks, then runs (no callbacks).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from app.domain.errors import Problem, UserErrorCode
from app.domain.operation import ChangeRequest
from app.services.clock import Clock
from app.services.completion import Completion
from app.services.outcomes import ChangeOutcome, OutcomeReader
from app.store.idempotency import IdempotencyRepository, KeyRecord

KEY_MAX = 100
FIELD = ("idempotencyKey",)
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Admission:
    """Exactly one of: run under `operation_id`, return `replay`, or refuse with `refusal`."""

    operation_id: str | None = None
    replay: ChangeOutcome | None = None
    refusal: Problem | None = None


def _owner(request: ChangeRequest) -> str:
    """Whose keys these are (`Actor.owner`)."""
    return request.meta.actor.owner


def _refused(code: UserErrorCode, message: str) -> Admission:
    return Admission(refusal=Problem(code, message, FIELD))


class Idempotency:
    """At most one change per (caller, key)."""

    def __init__(
        self,
        keys: IdempotencyRepository,
        outcomes: OutcomeReader,
        completion: Completion,
        clock: Clock,
        wait: timedelta,
    ) -> None:
        self._keys = keys
        self._outcomes = outcomes
        self._completion = completion
        self._clock = clock
        self._wait = wait

    async def admit(self, request: ChangeRequest, key: str) -> Admission:
        """What this request may do under its key (waiting for a first request in flight)."""
        if not key or len(key) > KEY_MAX or not key.isprintable():
            return _refused(
                UserErrorCode.TOO_LONG,
                f"An idempotency key has 1 to {KEY_MAX} printable characters.",
            )
        actor, digest = _owner(request), request.fingerprint()
        first = await self._keys.claim(actor, key, digest, request.operation_id, self._clock())
        if first is None:
            return Admission(operation_id=request.operation_id)
        if first.fingerprint != digest:
            return _refused(
                UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was already used with a different input; use a new key "
                "for a new request.",
            )
        return await self._follow(request, key, first)

    async def _follow(self, request: ChangeRequest, key: str, first: KeyRecord) -> Admission:
        """Wait for the first request's outcome; repair or take over a first request that
        went quiet past the grace period."""
        actor = _owner(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait.total_seconds()
        while True:
            replay = await self._outcomes.replay(first.operation_id)
            if replay is not None:
                record = await self._keys.get(actor, key) or first
                replay.problems = _first_problems(record, replay)
                return Admission(replay=replay)
            if self._clock() - first.created_at > self._completion.grace:
                # If its change still holds a lock, finish (or undo) that change and replay
                # it; only a first request that left no trace at all is taken over.
                if await self._completion.repair_operation(first.operation_id):
                    continue
                now = self._clock()
                if await self._keys.take_over(
                    actor, key, first.operation_id, request.operation_id, now
                ):
                    return Admission(operation_id=request.operation_id)
            elif loop.time() >= deadline:
                return _refused(
                    UserErrorCode.CONFLICT,
                    "The first request with this idempotency key is still in progress; "
                    "retry shortly.",
                )
            await asyncio.sleep(POLL_SECONDS)
            first = await self._keys.get(actor, key) or first

    async def settle(self, request: ChangeRequest, key: str, outcome: ChangeOutcome) -> None:
        """Remember the first request's userErrors, so a replay returns them word for word."""
        await self._keys.finish(_owner(request), key, outcome.problems)


def _first_problems(first: KeyRecord, replay: ChangeOutcome) -> list[Problem]:
    if first.problems is not None:
        return first.problems
    if replay.audit_event is None:
        return []
    return [Problem(code, f"Refused: {code.value}.") for code in replay.audit_event.error_codes]

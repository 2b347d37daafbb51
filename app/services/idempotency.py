"""Idempotency keys: a retried mutation returns its first result and changes nothing more."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction, RequestMeta
from app.services.changes import ChangeOutcome, ChangeService, new_operation_id
from app.services.clock import Clock
from app.store.idempotency import IdempotencyRepository

KEY_MAX = 100
FIELD = ("input", "idempotencyKey")

Start = Callable[[str], Awaitable[ChangeOutcome]]


def fingerprint(mutation: str, fields: list[Any]) -> str:
    """A stable digest of what was asked, to tell a retry from a different request."""
    text = json.dumps([mutation, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Idempotency:
    """Runs a mutation at most once per (caller, key)."""

    def __init__(
        self,
        keys: IdempotencyRepository,
        changes: ChangeService,
        clock: Clock,
        wait: timedelta,
        stale_after: timedelta,
    ) -> None:
        self._keys = keys
        self._changes = changes
        self._clock = clock
        self._wait = wait
        self._stale_after = stale_after

    async def run(
        self,
        meta: RequestMeta,
        action: AuditAction,
        user_id: str | None,
        key: str | None,
        digest: str,
        start: Start,
    ) -> ChangeOutcome:
        """`start(operation_id)` runs the mutation; with a key it runs once at most."""
        if key is None:
            return await start(new_operation_id())
        if not key or len(key) > KEY_MAX or not key.isprintable():
            return await self._refuse(
                meta, action, user_id, UserErrorCode.TOO_LONG,
                f"An idempotency key has 1 to {KEY_MAX} printable characters.",
            )  # fmt: skip
        actor = meta.actor.name
        op = new_operation_id()
        first = await self._keys.claim(actor, key, digest, op, self._clock())
        if first is None:
            return await self._start(actor, key, op, start)
        if first.fingerprint != digest:
            return await self._refuse(
                meta, action, user_id, UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was already used with a different input; "
                "use a new key for a new request.",
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait.total_seconds()
        while True:
            replay = await self._changes.replay(first.operation_id)
            if replay is not None:
                record = await self._keys.get(actor, key)
                if record is not None and record.problems is not None:
                    replay.problems = record.problems
                elif replay.audit_event is not None:
                    replay.problems = [
                        Problem(code, f"Refused: {code.value}.", ())
                        for code in replay.audit_event.error_codes
                    ]
                return replay
            if self._clock() - first.created_at > self._stale_after:
                # The first request went quiet. If its change still holds a lock, finish
                # (or undo) that change and replay it; only a first request that left no
                # trace at all is taken over by this one.
                if await self._changes.repair_operation(first.operation_id):
                    continue
                if await self._keys.take_over(actor, key, first.operation_id, op, self._clock()):
                    return await self._start(actor, key, op, start)
            elif loop.time() >= deadline:
                return await self._refuse(
                    meta, action, user_id, UserErrorCode.CONFLICT,
                    "The first request with this idempotency key is still in progress; "
                    "retry shortly.",
                )  # fmt: skip
            await asyncio.sleep(0.05)
            record = await self._keys.get(actor, key)
            if record is not None:
                first = record

    async def _start(self, actor: str, key: str, op: str, start: Start) -> ChangeOutcome:
        outcome = await start(op)
        await self._keys.finish(actor, key, outcome.problems)
        return outcome

    async def _refuse(
        self,
        meta: RequestMeta,
        action: AuditAction,
        user_id: str | None,
        code: UserErrorCode,
        message: str,
    ) -> ChangeOutcome:
        problem = Problem(code, message, FIELD)
        return await self._changes.refuse(new_operation_id(), action, meta, user_id, [problem])

"""Recording emails before hand-over, and handing each attempt over at most once.

An email's life:

    PENDING --first attempt--> SENT | RECORDED
                           \\-> RETRYING --due, leased, tried again--> SENT | RETRYING ...
                           \\-> FAILED   (5xx reply; "delivery unknown"; attempts exhausted)

Every attempt is claimed first (a lease on the record, taken by one atomic update that
also counts the attempt), then handed to the transport, then settled against that same
claim. So two processes never make the same attempt, and an attempt whose process died
is never repeated: recovery finds its lease stale and marks it FAILED "delivery unknown".
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime

from app.domain.models import (
    Bridge,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from app.domain.retry import RetryPolicy
from app.notify.templates import render
from app.notify.transport import (
    UNKNOWN,
    DeliveryResult,
    OutgoingEmail,
    RecordOnlyTransport,
    Transport,
)
from app.services.clock import Clock
from app.services.observer import NO_OBSERVER, Observer
from app.store.notifications import NotificationRepository

log = logging.getLogger("confid.outbox")


def process_name() -> str:
    """Who holds a lease, as an operator reads it: host, process id, a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def notification_id(operation_id: str) -> str:
    """The id of the one email an operation records: derived from the operation, so it is
    as unguessable as the operation id, and stable for the demo's fixed seed."""
    return "n_" + hashlib.sha256(operation_id.encode("utf-8")).hexdigest()[:24]


class Outbox:
    """Every email is recorded (PENDING or SUPPRESSED) first, then handed over."""

    def __init__(
        self,
        repo: NotificationRepository,
        transport: Transport,
        clock: Clock,
        policy: RetryPolicy | None = None,
        *,
        unit_random: Callable[[], float] = random.random,
        owner: str | None = None,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self._repo = repo
        self._transport = transport
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._unit_random = unit_random
        self.owner = owner or process_name()
        self._observer = observer

    async def record(
        self,
        *,
        kind: NotificationKind,
        to: tuple[str, ...],
        to_primary_address: bool,
        display_name: str,
        conference_id: str,
        bridge: Bridge,
        suppressed: bool,
        audit_sequence: int,
        user_id: str,
        operation_id: str,
        resend_of: str | None = None,
    ) -> Notification:
        """Render and record the email for one operation (idempotent per operation)."""
        rendered = render(kind, display_name, conference_id, bridge)
        note = Notification(
            id=notification_id(operation_id),
            kind=kind,
            to=to,
            subject=rendered.subject,
            body=rendered.body,
            conference_id=conference_id,
            status=self._initial_status(suppressed),
            created_at=self._clock(),
            to_primary_address=to_primary_address,
            audit_sequence=audit_sequence,
            user_id=user_id,
            operation_id=operation_id,
            resend_of=resend_of,
        )
        stored = await self._repo.record(note)
        if stored is note:  # not an earlier record of the same operation
            self._observer.email_status(note.status)
        return stored

    def _initial_status(self, suppressed: bool) -> NotificationStatus:
        if suppressed:
            return NotificationStatus.SUPPRESSED
        if isinstance(self._transport, RecordOnlyTransport):
            # No mail transport: recording it is the whole delivery, so say so at once
            # (nothing is ever handed over, so there is no PENDING stage to claim).
            return NotificationStatus.RECORDED
        return NotificationStatus.PENDING

    async def deliver(self, note: Notification) -> Notification:
        """Make a PENDING email's first attempt; the status says what happened."""
        if note.status is not NotificationStatus.PENDING:
            return note
        if not await self._repo.claim_first(note.id, self._clock(), self.owner):
            return note  # another worker is handing it over
        return await self._attempt(replace(note, attempts=note.attempts + 1))

    async def claim_due(self, exclude: Collection[str] = ()) -> Notification | None:
        """Lease the RETRYING email due longest (not one of `exclude`), if any is due."""
        return await self._repo.claim_due(self._clock(), self.owner, exclude)

    async def attempt(self, note: Notification) -> Notification:
        """Make the attempt `claim_due` leased."""
        return await self._attempt(note)

    async def _attempt(self, note: Notification) -> Notification:
        """Hand a leased email over once, then settle that lease with the outcome."""
        try:
            result = await self._transport.deliver(
                OutgoingEmail(to=note.to, subject=note.subject, body=note.body,
                              notification_id=note.id)
            )  # fmt: skip
        except Exception as exc:  # what the transport did before raising is unknown
            log.warning("email %s: transport raised %s", note.id, type(exc).__name__)
            result = DeliveryResult.unknown(f"transport error: {type(exc).__name__}")
        settled = self._outcome(note, result, self._clock())
        if not await self._repo.settle(
            note.id,
            note.status,
            note.attempts,
            settled.status,
            error=settled.last_error,
            next_attempt_at=settled.next_attempt_at,
            sent_at=settled.sent_at,
        ):
            # Settled meanwhile (a sweep judged the hand-over lost): report what is stored.
            return await self._repo.get(note.id) or note
        self._observer.email_status(settled.status)
        if settled.status is NotificationStatus.FAILED:
            log.warning("email %s failed after %d attempt(s): %s", note.id, note.attempts,
                        settled.last_error)  # fmt: skip
        elif settled.status is NotificationStatus.RETRYING:
            log.info("email %s: attempt %d refused for now; next at %s", note.id,
                     note.attempts, settled.next_attempt_at)  # fmt: skip
        return settled

    def _outcome(self, note: Notification, result: DeliveryResult, now: datetime) -> Notification:
        """The record after an attempt: the transport's verdict under the retry policy."""
        status, error = result.status, result.error
        if status is NotificationStatus.SENT:
            return replace(note, status=status, next_attempt_at=None, sent_at=now)
        if status is NotificationStatus.RECORDED:
            return replace(note, status=status, next_attempt_at=None)
        if status is NotificationStatus.RETRYING:
            error = error or "refused for now"
            if self._policy.exhausted(note.attempts):
                return replace(
                    note,
                    status=NotificationStatus.FAILED,
                    last_error=f"gave up after {note.attempts} attempts; last: {error}",
                    next_attempt_at=None,
                )
            wait = self._policy.wait_after(note.attempts, self._unit_random())
            return replace(note, status=status, last_error=error, next_attempt_at=now + wait)
        # FAILED, or anything a transport should not have said: never claim more.
        return replace(
            note,
            status=NotificationStatus.FAILED,
            last_error=error or f"{UNKNOWN}: the transport answered {status.value}",
            next_attempt_at=None,
        )

    async def by_operation(self, operation_id: str) -> Notification | None:
        """The email an operation recorded, if any."""
        return await self._repo.by_operation(operation_id)

    async def get(self, notification_id: str) -> Notification | None:
        """One email by its id."""
        return await self._repo.get(notification_id)

    async def give_up(self, note: Notification, why: str) -> None:
        """A hand-over began but its end is unknown: say FAILED rather than resend."""
        if await self._repo.settle(
            note.id, note.status, note.attempts, NotificationStatus.FAILED, error=why
        ):
            self._observer.email_status(NotificationStatus.FAILED)

    async def pending_before(self, cutoff: datetime) -> list[tuple[Notification, datetime | None]]:
        """PENDING emails older than `cutoff`, and RETRYING ones whose hand-over began
        before it (their process died mid-attempt), with when the hand-over began (if)."""
        return await self._repo.stale_before(cutoff)

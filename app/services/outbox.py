"""Recording emails before hand-over, and handing them over at most once."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime

from app.domain.models import (
    Bridge,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from app.notify.templates import render
from app.notify.transport import OutgoingEmail, RecordOnlyTransport, Transport
from app.services.clock import Clock
from app.store.notifications import NotificationRepository

log = logging.getLogger("confid.outbox")


class Outbox:
    """Every email is recorded (PENDING or SUPPRESSED) first, then delivered once."""

    def __init__(self, repo: NotificationRepository, transport: Transport, clock: Clock) -> None:
        self._repo = repo
        self._transport = transport
        self._clock = clock

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
    ) -> Notification:
        """Render and record the email for one operation (idempotent per operation)."""
        rendered = render(kind, display_name, conference_id, bridge)
        note = Notification(
            id="n_" + secrets.token_hex(12),
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
        )
        return await self._repo.record(note)

    def _initial_status(self, suppressed: bool) -> NotificationStatus:
        if suppressed:
            return NotificationStatus.SUPPRESSED
        if isinstance(self._transport, RecordOnlyTransport):
            # No mail transport: recording it is the whole delivery, so say so at once
            # (nothing is ever handed over, so there is no PENDING stage to claim).
            return NotificationStatus.RECORDED
        return NotificationStatus.PENDING

    async def deliver(self, note: Notification) -> Notification:
        """Hand a PENDING email to the transport once; the status says what happened."""
        if note.status is not NotificationStatus.PENDING:
            return note
        if not await self._repo.claim_delivery(note.id, self._clock()):
            return note  # another worker is handing it over
        try:
            result = await self._transport.deliver(
                OutgoingEmail(to=note.to, subject=note.subject, body=note.body)
            )
            status, error = result.status, result.error
        except Exception as exc:  # a transport failure is a FAILED email, not a 500
            log.warning("email %s could not be delivered: %s", note.id, type(exc).__name__)
            status, error = NotificationStatus.FAILED, f"transport error: {type(exc).__name__}"
        if not await self._repo.settle(note.id, status, error):
            # Settled meanwhile (a sweep judged the hand-over lost): report what is stored.
            return await self._repo.by_operation(note.operation_id) or note
        return replace(note, status=status, error=error)

    async def by_operation(self, operation_id: str) -> Notification | None:
        """The email an operation recorded, if any."""
        return await self._repo.by_operation(operation_id)

    async def give_up(self, note: Notification, why: str) -> None:
        """A hand-over began but its end is unknown: say FAILED rather than resend."""
        await self._repo.settle(note.id, NotificationStatus.FAILED, why)

    async def pending_before(self, cutoff: datetime) -> list[tuple[Notification, datetime | None]]:
        """PENDING emails older than `cutoff`, with when their hand-over began (if)."""
        return await self._repo.pending_before(cutoff)

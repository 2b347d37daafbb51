"""Transports hand a recorded email over for delivery, behind one small Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain.models import NotificationStatus


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """What a transport needs to deliver one email."""

    to: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The honest outcome of a hand-over: RECORDED, SENT or FAILED, with an error text."""

    status: NotificationStatus
    error: str | None = None


class Transport(Protocol):
    """Delivers emails; raising counts as FAILED."""

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult: ...


class RecordOnlyTransport:
    """No mail server configured: the record in `notifications` is the delivery."""

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        return DeliveryResult(NotificationStatus.RECORDED)

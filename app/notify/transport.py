"""Transports hand a recorded email over for delivery, behind one small Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain.models import NotificationStatus

UNKNOWN = "delivery unknown"  # how every ambiguous outcome's reason begins


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """What a transport needs to deliver one email."""

    to: tuple[str, ...]
    subject: str
    body: str
    notification_id: str  # the same for every attempt, so a receiver can de-duplicate


def message_id(notification_id: str, sender: str) -> str:
    """The `Message-ID` of a notification's email: derived from its id alone, so every
    attempt at the same email carries the same one, on the sender's domain."""
    domain = sender.rpartition("@")[2].strip().strip("<>") if "@" in sender else ""
    return f"<{notification_id}@{domain or 'confid.invalid'}>"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The honest outcome of one hand-over attempt.

    `status` is RECORDED or SENT when it worked; RETRYING when the mail server did not
    take the message and trying again later is safe (connection refused, timeout before
    DATA, a 4xx reply); FAILED when it refused for good (a 5xx reply) or when it may or may
    not have the message (the connection broke after the data was sent: `error` then
    begins with "delivery unknown", and the email is never sent again automatically).
    """

    status: NotificationStatus
    error: str | None = None

    @classmethod
    def sent(cls) -> DeliveryResult:
        return cls(NotificationStatus.SENT)

    @classmethod
    def temporary(cls, error: str) -> DeliveryResult:
        return cls(NotificationStatus.RETRYING, error)

    @classmethod
    def permanent(cls, error: str) -> DeliveryResult:
        return cls(NotificationStatus.FAILED, error)

    @classmethod
    def unknown(cls, error: str) -> DeliveryResult:
        return cls(NotificationStatus.FAILED, f"{UNKNOWN}: {error}")


class Transport(Protocol):
    """Delivers emails, one attempt per call; raising counts as FAILED, delivery unknown
    (what the transport did before it raised cannot be known, so it is never resent)."""

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult: ...


class RecordOnlyTransport:
    """No mail server configured: the record in `notifications` is the delivery."""

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        return DeliveryResult(NotificationStatus.RECORDED)

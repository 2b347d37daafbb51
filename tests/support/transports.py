"""Email transports for tests that count what was handed over."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from app.domain.models import NotificationStatus
from app.notify.transport import DeliveryResult, OutgoingEmail


@dataclass
class CountingTransport:
    """Records every email handed over (the record-only transport's answer)."""

    sent: list[OutgoingEmail] = field(default_factory=list)

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        self.sent.append(email)
        return DeliveryResult(NotificationStatus.RECORDED)

    def recipients(self) -> Counter[str]:
        return Counter(address for email in self.sent for address in email.to)

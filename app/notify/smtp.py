"""The SMTP transport: hands each email to a mail server (status SENT once accepted)."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from app.domain.models import NotificationStatus
from app.notify.transport import DeliveryResult, OutgoingEmail


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to submit mail."""

    host: str
    port: int = 25
    sender: str = "confid@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


class SmtpTransport:
    """Submits over SMTP in a worker thread, so the event loop never waits on the network."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        await asyncio.to_thread(self._send, email)
        return DeliveryResult(NotificationStatus.SENT)

    def _send(self, email: OutgoingEmail) -> None:
        config = self._config
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        message.set_content(email.body)
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)

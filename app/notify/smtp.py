"""The SMTP transport: one attempt per call over `aiosmtplib`, classified honestly.

An attempt is in one of three phases when it ends:

    connect    TCP, TLS (implicit or STARTTLS), EHLO, login
    envelope   MAIL FROM and RCPT TO
    data       from the DATA command until the server's final reply

Accepted -> SENT. Refused for now (connection refused or lost, a timeout, a `4xx` reply)
before the data phase -> RETRYING: the server does not have the message, trying again is
safe. A `4xx` reply to the data itself is also RETRYING (the server said it did not take
it). A `5xx` reply, in any phase -> FAILED with the code and text; so is a server that
lacks what the configuration asks for (STARTTLS, AUTH). A connection lost or a
timeout in the data phase -> FAILED "delivery unknown": the server may have the message,
so it is never sent again automatically (counting the DATA command itself as data is the
cautious side: a resend needs a person).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from pathlib import Path

import aiosmtplib

from app.notify.transport import DeliveryResult, OutgoingEmail, message_id

REPLY_MAX = 200  # characters of a server's reply kept in the record


class Phase(enum.Enum):
    """How far one attempt got."""

    CONNECT = "connect"
    ENVELOPE = "envelope"
    DATA = "data"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to submit mail."""

    host: str
    port: int = 25
    sender: str = "confid@localhost"
    starttls: bool = False  # upgrade a plain connection (usually port 587)
    tls: bool = False  # implicit TLS from the first byte (SMTPS, usually port 465)
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None  # trust these CAs instead of the system's
    timeout: float = 10.0  # each SMTP command
    attempt_timeout: float = 30.0  # one whole attempt; keep it under the recovery grace

    def __post_init__(self) -> None:
        if self.starttls and self.tls:
            raise ValueError("STARTTLS and implicit TLS exclude each other")


def _reply(code: int, text: str) -> str:
    line = " ".join(text.split())
    return f"{code} {line[:REPLY_MAX]}".strip()


def classify(exc: Exception, phase: Phase) -> DeliveryResult | None:
    """What a failed attempt means; None for an error that is not the mail server's."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        reply = _reply(exc.code, exc.message)
        if 400 <= exc.code < 500:
            return DeliveryResult.temporary(f"{reply} (in {phase.value})")
        if 500 <= exc.code < 600:
            return DeliveryResult.permanent(reply)
        # A reply that is no SMTP code at all: the conversation is broken.
        if phase is Phase.DATA:
            return DeliveryResult.unknown(f"unexpected reply after the data was sent: {reply}")
        return DeliveryResult.temporary(f"unexpected reply in {phase.value}: {reply}")
    if isinstance(exc, TimeoutError):
        if phase is Phase.DATA:
            return DeliveryResult.unknown("timed out after the data was sent")
        return DeliveryResult.temporary(f"timed out before DATA (in {phase.value})")
    if isinstance(exc, OSError):  # refused, reset, lost, TLS handshake, name resolution
        if phase is Phase.DATA:
            return DeliveryResult.unknown("connection lost after the data was sent")
        if isinstance(exc.__cause__ or exc, ConnectionRefusedError):
            return DeliveryResult.temporary("connection refused")
        if isinstance(exc.__cause__ or exc, ssl.SSLError):
            return DeliveryResult.temporary(f"TLS failed: {type(exc.__cause__ or exc).__name__}")
        return DeliveryResult.temporary(
            f"connection failed or lost before DATA (in {phase.value}): {type(exc).__name__}"
        )
    if isinstance(exc, aiosmtplib.SMTPException):
        # The server lacks what confid is configured to use (STARTTLS, AUTH, SMTPUTF8):
        # trying again changes nothing until someone changes the configuration.
        if phase is Phase.DATA:
            return DeliveryResult.unknown(f"SMTP error after the data was sent: {exc.message}")
        return DeliveryResult.permanent(f"the mail server cannot do this: {exc.message}")
    return None


class SmtpTransport:
    """Submits each email in one SMTP session, on the event loop (no worker thread)."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._tls_context: ssl.SSLContext | None = None
        if config.tls or config.starttls:
            self._tls_context = ssl.create_default_context(
                cafile=str(config.ca_file) if config.ca_file is not None else None
            )
        self._local_hostname: str | None = None

    def message(self, email: OutgoingEmail) -> EmailMessage:
        """The message as it goes on the wire (headers and plain-text body)."""
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = self._config.sender
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(email.notification_id, self._config.sender)
        # 7-bit safe whatever the server offers (no 8BITMIME needed for accented names).
        message.set_content(email.body, cte="7bit" if email.body.isascii() else "quoted-printable")
        return message

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        config = self._config
        if self._local_hostname is None:  # EHLO name; looked up once, off the event loop
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        data = self.message(email).as_bytes()
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            local_hostname=self._local_hostname,
            timeout=config.timeout,
            use_tls=config.tls,
            start_tls=config.starttls,  # False: never, not "if offered"
            tls_context=self._tls_context,
        )
        phase = Phase.CONNECT
        try:
            async with asyncio.timeout(config.attempt_timeout):
                await smtp.connect()
                phase = Phase.ENVELOPE
                await smtp.mail(config.sender)
                for recipient in email.to:
                    await smtp.rcpt(recipient)
                phase = Phase.DATA
                await smtp.data(data)
        except Exception as exc:
            smtp.close()
            result = classify(exc, phase)
            if result is None:
                raise
            return result
        with contextlib.suppress(Exception):  # accepted: how the goodbye goes is moot
            async with asyncio.timeout(config.timeout):
                await smtp.quit()
        smtp.close()
        return DeliveryResult.sent()

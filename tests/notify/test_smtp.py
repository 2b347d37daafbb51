"""The SMTP transport against a small SMTP server on loopback: SENT, or FAILED honestly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from email import message_from_bytes
from typing import Any

import pytest

from app.notify.smtp import SmtpConfig, SmtpTransport
from app.settings import Settings
from tests.conftest import make_api, operation
from tests.server import free_port


class MailSink:
    """Just enough SMTP to accept messages: EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(data)
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            elif verb == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def sink() -> AsyncIterator[tuple[MailSink, int]]:
    mail = MailSink()
    port = free_port()
    server = await asyncio.start_server(mail.handle, "127.0.0.1", port)
    async with server:
        yield mail, port


async def test_changed_id_email_goes_through_smtp(
    settings: Settings, raw_database: Any, sink: tuple[MailSink, int]
) -> None:
    mail, port = sink
    transport = SmtpTransport(SmtpConfig("127.0.0.1", port, sender="confid@contoso.example"))
    api = await make_api(settings, raw_database, transport=transport)
    user = await api.enabled_user()
    data = await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    note = data["resetConferenceId"]["notification"]
    assert note["status"] == "SENT"
    (raw,) = mail.messages
    message = message_from_bytes(raw)
    assert message["To"] == user["email"] and message["From"] == "confid@contoso.example"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert note["conferenceId"] in body and "reschedule" in body
    await api.client.aclose()


async def test_unreachable_mail_server_is_failed(settings: Settings, raw_database: Any) -> None:
    transport = SmtpTransport(SmtpConfig("127.0.0.1", free_port(), timeout=2))
    api = await make_api(replace(settings), raw_database, transport=transport)
    user = await api.enabled_user()
    data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    assert data["sendConferenceInfo"]["notification"]["status"] == "FAILED"
    await api.client.aclose()


def test_smtp_settings_are_read() -> None:
    settings = Settings.from_env({"CONFID_SMTP_HOST": "mailpit", "CONFID_SMTP_PORT": "1025"})
    assert (settings.smtp_host, settings.smtp_port) == ("mailpit", 1025)

"""The SMTP transport against a real SMTP server (aiosmtpd): each attempt classified."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.domain.models import NotificationStatus
from app.notify.smtp import SmtpConfig, SmtpTransport
from app.notify.transport import OutgoingEmail
from tests.support.mailserver import DROP, MailServer, make_certificate, serving
from tests.support.served import free_port

EMAIL = OutgoingEmail(
    to=("megan.bowen@contoso.example",),
    subject="Your audio-conferencing dial-in information",
    body="Hello Megan,\n\nConference ID: 5081937\nToll number: +14255550100\n",
    notification_id="n_0123456789abcdef01234567",
)


def transport(port: int, **options: object) -> SmtpTransport:
    config = SmtpConfig("127.0.0.1", port, sender="confid@contoso.example", timeout=5)
    return SmtpTransport(SmtpConfig(**{**_fields(config), **options}))  # type: ignore[arg-type]


def _fields(config: SmtpConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in SmtpConfig.__dataclass_fields__}


async def test_an_accepted_message_is_sent_with_its_message_id() -> None:
    async with serving(MailServer()) as mail:
        result = await transport(mail.port).deliver(EMAIL)
    assert result.status is NotificationStatus.SENT and result.error is None
    (message,) = mail.accepted
    assert message["Message-ID"] == "<n_0123456789abcdef01234567@contoso.example>"
    assert message["From"] == "confid@contoso.example"
    assert message["To"] == "megan.bowen@contoso.example"
    assert message["Subject"] == EMAIL.subject and message["Date"]
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and body.decode() == EMAIL.body.replace("\n", "\r\n")


async def test_a_body_with_accents_goes_seven_bit_and_decodes_back() -> None:
    email = OutgoingEmail(EMAIL.to, EMAIL.subject, "Bonjour Adèle,\n", EMAIL.notification_id)
    async with serving(MailServer()) as mail:
        assert (await transport(mail.port).deliver(email)).status is NotificationStatus.SENT
    (message,) = mail.accepted
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and body.decode("utf-8") == "Bonjour Adèle,\r\n"


@pytest.mark.parametrize(
    ("script", "rcpt_script", "status", "error"),
    [
        (["451 4.3.0 try again later"], [], "RETRYING", "451 4.3.0 try again later (in data)"),
        ([], ["450 4.7.1 greylisted"], "RETRYING", "450 4.7.1 greylisted (in envelope)"),
        (["550 5.1.1 no such mailbox"], [], "FAILED", "550 5.1.1 no such mailbox"),
        ([], ["553 5.7.1 relaying denied"], "FAILED", "553 5.7.1 relaying denied"),
        ([DROP], [], "FAILED", "delivery unknown: connection lost after the data was sent"),
    ],
)
async def test_replies_are_classified(
    script: list[str], rcpt_script: list[str], status: str, error: str
) -> None:
    refused_at_rcpt = bool(rcpt_script)
    async with serving(MailServer(script=script, rcpt_script=rcpt_script)) as mail:
        result = await transport(mail.port).deliver(EMAIL)
    assert (result.status.value, result.error) == (status, error)
    assert mail.accepted == []
    # Refused at RCPT: the data never went; otherwise it did, exactly once.
    assert sum(mail.data_commands.values()) == (0 if refused_at_rcpt else 1)


async def test_an_unreachable_server_is_refused_for_now() -> None:
    result = await transport(free_port()).deliver(EMAIL)
    assert (result.status, result.error) == (NotificationStatus.RETRYING, "connection refused")


async def test_a_silent_server_times_out_before_data() -> None:
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets; returns when the client hangs up
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await transport(port, timeout=0.2).deliver(EMAIL)
        await asyncio.wait_for(hung_up.wait(), 5)
    assert result.status is NotificationStatus.RETRYING
    assert result.error == "timed out before DATA (in connect)"


async def test_starttls_and_login(tmp_path: Path) -> None:
    context, ca_file = make_certificate(tmp_path)
    async with serving(MailServer(), starttls=context, login=True) as mail:
        result = await transport(
            mail.port, starttls=True, ca_file=ca_file, username="confid", password="s3cret-pass"
        ).deliver(EMAIL)
    assert result.status is NotificationStatus.SENT
    assert mail.logins == ["confid"] and mail.tls_sessions == 1 and len(mail.accepted) == 1


async def test_implicit_tls_and_login(tmp_path: Path) -> None:
    context, ca_file = make_certificate(tmp_path)
    async with serving(MailServer(), implicit_tls=context, login=True) as mail:
        result = await transport(
            mail.port, tls=True, ca_file=ca_file, username="confid", password="s3cret-pass"
        ).deliver(EMAIL)
    assert result.status is NotificationStatus.SENT
    assert mail.logins == ["confid"] and mail.tls_sessions == 1 and len(mail.accepted) == 1


async def test_a_wrong_password_is_refused_for_good(tmp_path: Path) -> None:
    context, ca_file = make_certificate(tmp_path)
    async with serving(MailServer(), starttls=context, login=True) as mail:
        result = await transport(
            mail.port, starttls=True, ca_file=ca_file, username="confid", password="wrong"
        ).deliver(EMAIL)
    assert result.status is NotificationStatus.FAILED
    assert result.error is not None and result.error.startswith("535 ")
    assert "wrong" not in result.error and mail.accepted == []


async def test_an_untrusted_certificate_is_never_sent_to(tmp_path: Path) -> None:
    context, _ = make_certificate(tmp_path)
    async with serving(MailServer(), starttls=context) as mail:
        result = await transport(mail.port, starttls=True).deliver(EMAIL)  # system CAs only
    assert result.status is NotificationStatus.RETRYING
    assert result.error is not None and "TLS" in result.error
    assert sum(mail.data_commands.values()) == 0

"""A real SMTP server (aiosmtpd) on loopback, in the test's own event loop, scripted per
message: each message's n-th DATA gets the n-th reply of the script, then 250. Also
confid's transport to it, and an email it refused for good."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.notify.smtp import SmtpConfig, SmtpTransport
from tests.support.api import Api, operation

ACCEPT = "250 2.0.0 queued"
DROP = "drop"  # close the connection once the data is in, before any reply


@dataclass
class MailServer:
    """What the server was told and what it kept."""

    script: list[str] = field(default_factory=list)  # replies to each message's DATA
    rcpt_script: list[str] = field(default_factory=list)  # replies to each RCPT TO
    port: int = 0
    accepted: list[Message] = field(default_factory=list)
    data_commands: Counter[str] = field(default_factory=Counter)  # per Message-ID
    logins: list[str] = field(default_factory=list)
    tls_sessions: int = 0

    @property
    def accepted_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.accepted]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_script:
            reply = self.rcpt_script.pop(0)
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content)
        key = str(message["Message-ID"])
        attempt = self.data_commands[key]
        self.data_commands[key] += 1
        assert server.transport is not None
        if server.transport.get_extra_info("ssl_object") is not None:
            self.tls_sessions += 1
        reply = self.script[attempt] if attempt < len(self.script) else ACCEPT
        if reply == DROP:
            server.transport.abort()  # the data arrived; the client never hears back
            return "250 never sent"
        if reply.startswith("250"):
            self.accepted.append(message)
        return reply

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login, data.password) == (b"confid", b"s3cret-pass")
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself


@asynccontextmanager
async def serving(
    mail: MailServer,
    *,
    implicit_tls: ssl.SSLContext | None = None,
    starttls: ssl.SSLContext | None = None,
    login: bool = False,
) -> AsyncIterator[MailServer]:
    """Serve `mail` on a free loopback port until the block ends."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            mail,
            hostname="mail.test",
            loop=loop,
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=mail.authenticate if login else None,
            # aiosmtpd only counts STARTTLS as TLS, so over implicit TLS it cannot insist
            # on AUTH without warning; the tests then check that a login did happen.
            auth_required=login and implicit_tls is None,
            auth_require_tls=implicit_tls is None,
        )

    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=implicit_tls)
    mail.port = server.sockets[0].getsockname()[1]
    try:
        yield mail
    finally:
        server.close()
        await server.wait_closed()


def make_certificate(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1: the server's context, and the CA file a
    client must trust to accept it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "mail-cert.pem", folder / "mail-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


#: A permanent refusal: the email is FAILED at once, and may be resent.
REFUSED = "550 5.2.1 mailbox disabled"


def smtp(port: int) -> SmtpTransport:
    """confid's SMTP transport to the test server on `port` (plain SMTP, no login)."""
    return SmtpTransport(SmtpConfig("127.0.0.1", port, sender="confid@contoso.example"))


async def failed_email(api: Api, mail: MailServer) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send conference info while the server refuses it for good; then let it accept."""
    mail.script = [REFUSED]
    user = await api.enabled_user()
    data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    note = data["sendConferenceInfo"]["notification"]
    assert (note["status"], note["error"]) == ("FAILED", REFUSED)
    mail.script = []
    return user, note

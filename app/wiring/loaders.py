"""What the settings name on disk or in the environment: tokens, keys, the mail server."""

from __future__ import annotations

import logging
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.signing import Signer, SigningKeyError, load_public_pems
from app.notify.smtp import SmtpConfig, SmtpTransport
from app.notify.transport import Transport
from app.services.tokens import TokenRegistry
from app.settings import Settings

log = logging.getLogger("confid")


class StartupError(RuntimeError):
    """confid cannot start with this configuration; the message says why."""


def load_tokens(settings: Settings) -> TokenRegistry:
    """The bearer tokens: from CONFID_TOKENS_FILE, or one generated per role (embedded demo)."""
    if settings.tokens_file is not None:
        return TokenRegistry.from_file(settings.tokens_file)
    if settings.oidc and not settings.embedded:
        return TokenRegistry({})  # people sign in with the provider; no static tokens
    if not settings.embedded:
        raise StartupError(
            "CONFID_TOKENS_FILE is required with MONGODB_URL (generated demo tokens are only "
            "for the embedded store)."
        )
    registry, plain = TokenRegistry.generated()
    lines = "\n".join(f"    {role:<9} {token}" for role, token in plain.items())
    # Printed once to the console, never logged: these are the only copies.
    print(
        "\nconfid demo tokens, one per role (valid until this process exits). Paste one once, "
        "on the admin page\nor in GraphiQL's token field (every tab uses it); with curl, send "
        "`Authorization: Bearer <token>`.\n" + lines + "\n",
        file=sys.stderr,
        flush=True,
    )
    return registry


def load_signer(settings: Settings) -> Signer | None:
    """The audit signing key: from a file or the environment; generated for the demo."""
    try:
        if settings.signing_key_file is not None:
            return Signer.from_pem(settings.signing_key_file.read_bytes())
        if settings.signing_key_pem is not None:
            return Signer.from_pem(settings.signing_key_pem.encode("ascii"))
    except (OSError, SigningKeyError, UnicodeEncodeError) as exc:
        raise StartupError(f"cannot load the audit signing key: {exc}") from None
    if settings.embedded:
        signer = Signer.generate()
        log.warning(
            "audit signing key generated for this process only (key id %s): set "
            "CONFID_SIGNING_KEY_FILE to keep signatures verifiable across restarts",
            signer.key_id,
        )
        return signer
    log.warning(
        "no audit signing key (CONFID_SIGNING_KEY_FILE): entries and checkpoints are not "
        "signed; deleting the newest entries would go undetected"
    )
    return None


def load_previous_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """Public keys of earlier signing keys, so entries signed before a rotation verify."""
    if settings.previous_public_keys_file is None:
        return []
    try:
        return load_public_pems(settings.previous_public_keys_file.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, SigningKeyError) as exc:
        raise StartupError(f"cannot load CONFID_PREVIOUS_PUBLIC_KEYS_FILE: {exc}") from None


def load_transport(settings: Settings) -> Transport | None:
    """SMTP when CONFID_SMTP_HOST is set; otherwise None (record-only)."""
    if settings.smtp_host is None:
        return None
    password = None
    if settings.smtp_password_file is not None:
        try:
            password = settings.smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StartupError(f"cannot read CONFID_SMTP_PASSWORD_FILE: {exc}") from None
    return SmtpTransport(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            ca_file=settings.smtp_ca_file,
            username=settings.smtp_username,
            password=password,
        )
    )

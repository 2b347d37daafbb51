"""Roles and what each may do (SPEC §3), as a pure table."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from app.domain.models import Actor, Role


class Capability(Enum):
    """A thing a caller may be allowed to do."""

    READ_DIRECTORY = "read users, bridges and check IDs"
    LOOKUP_ID = "look up who holds a conference ID"
    READ_AUDIT = "read the audit trail and notifications"
    MANAGE_IDS = "enable audio conferencing, reset IDs and send conference info"
    CHOOSE_ID = "set a hand-picked conference ID"
    SIGN_CHECKPOINT = "sign audit checkpoints"
    RESEND_EMAIL = "send a FAILED email again"
    PREVIEW_BULK_RESET = "preview a bulk reset (who a selection of IDs or users would reset)"
    READ_BULK_RESETS = "read bulk reset jobs and their results"
    RUN_BULK_RESET = "start or cancel a bulk reset"
    WATCH_EMAILS = "follow email records live"


_GRANTS: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.HELPDESK: frozenset(
        {
            Capability.READ_DIRECTORY,
            Capability.LOOKUP_ID,
            Capability.MANAGE_IDS,
            Capability.PREVIEW_BULK_RESET,
        }
    ),
    Role.AUDITOR: frozenset(
        {Capability.READ_DIRECTORY, Capability.READ_AUDIT, Capability.READ_BULK_RESETS}
    ),
    Role.SYSTEM: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request.

    `name` is a static token's name, or the username of an OpenID Connect token. For such a
    token `issuer` and `subject` (`iss`, `sub`: the person's stable, unique id at that
    provider) and `display_name` (`name`) say who it is; they are None for static tokens.
    All of it is recorded as the actor of the caller's audit entries and trail reads.

    `expires` is when the credential stops being accepted (Unix time): a static token's
    `expires`, an OpenID Connect token's `exp` plus the allowed clock skew; None for never.
    A websocket authenticated once is closed then (it is not part of who the caller is).
    """

    name: str
    role: Role
    issuer: str | None = None
    subject: str | None = None
    display_name: str | None = None
    expires: float | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """Who this caller is for per-caller state (rate limits, subscription slots): a
        signed-in person by issuer and subject, never confused with a static token that
        shares their username; a static token by its name."""
        if self.issuer is not None and self.subject is not None:
            return f"oidc\x1e{self.issuer}\x1e{self.subject}"
        return f"token\x1e{self.name}"

    @property
    def actor(self) -> Actor:
        """How this caller appears in the audit trail."""
        return Actor(self.name, self.role, self.issuer, self.subject, self.display_name)

    def may(self, capability: Capability) -> bool:
        """True when the role grants the capability."""
        return capability in _GRANTS[self.role]

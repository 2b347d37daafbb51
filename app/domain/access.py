"""Roles and what each may do (SPEC §3), as a pure table."""

from __future__ import annotations

from dataclasses import dataclass
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
    WATCH_EMAILS = "follow email records live"


_GRANTS: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.HELPDESK: frozenset(
        {Capability.READ_DIRECTORY, Capability.LOOKUP_ID, Capability.MANAGE_IDS}
    ),
    Role.AUDITOR: frozenset({Capability.READ_DIRECTORY, Capability.READ_AUDIT}),
    Role.SYSTEM: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request.

    `name` is what the audit trail records today: a static token's name, or the username
    of an OpenID Connect token. For such a token `issuer` and `subject` (`iss`, `sub`: the
    person's stable, unique id at that provider) and `display_name` (`name`) say who it is;
    they are None for static tokens.
    """

    name: str
    role: Role
    issuer: str | None = None
    subject: str | None = None
    display_name: str | None = None

    @property
    def actor(self) -> Actor:
        """How this caller appears in the audit trail."""
        return Actor(self.name, self.role)

    def may(self, capability: Capability) -> bool:
        """True when the role grants the capability."""
        return capability in _GRANTS[self.role]

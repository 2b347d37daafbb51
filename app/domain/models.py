"""Domain objects: bridges, users, their conference IDs, actors, notifications.

The audit entry has a module of its own (`app.domain.entry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Role(Enum):
    """Who an actor is: a token's role, or the system itself."""

    ADMIN = "ADMIN"
    HELPDESK = "HELPDESK"
    AUDITOR = "AUDITOR"
    SYSTEM = "SYSTEM"


class AuditAction(Enum):
    """What an audit entry records."""

    ASSIGN = "ASSIGN"
    SET = "SET"
    RESET = "RESET"
    SEND_INFO = "SEND_INFO"
    BULK_RESET_STARTED = "BULK_RESET_STARTED"  # a bulk reset job was started (or refused)
    BULK_RESET_FINISHED = "BULK_RESET_FINISHED"  # it ended: succeeded, failed or cancelled


class AuditOutcome(Enum):
    """Whether the audited attempt changed anything."""

    SUCCESS = "SUCCESS"
    REJECTED = "REJECTED"


class NotificationKind(Enum):
    """The kinds of email confid sends."""

    CONFERENCE_INFO = "CONFERENCE_INFO"
    CONFERENCE_ID_CHANGED = "CONFERENCE_ID_CHANGED"


class NotificationStatus(Enum):
    """How far an email got; never claims more than happened."""

    PENDING = "PENDING"
    RECORDED = "RECORDED"
    RETRYING = "RETRYING"  # refused for now (connection, timeout, 4xx); tried again later
    SENT = "SENT"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"


@dataclass(frozen=True, slots=True)
class Bridge:
    """An audio-conferencing bridge; its ID length never changes."""

    id: str
    name: str
    conference_id_length: int
    default_toll_number: str | None
    default_toll_free_number: str | None
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class AudioConferencing:
    """A user's active conference ID on a bridge."""

    conference_id: str
    bridge_id: str
    assigned_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    """A person who may be enabled for audio conferencing."""

    id: str
    display_name: str
    email: str
    audio: AudioConferencing | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: a static token's name and role, a person signed in through OpenID
    Connect (their username and role, and who vouched for them: the issuer, their subject
    there and their display name), or `system`."""

    name: str
    role: Role
    issuer: str | None = None
    subject: str | None = None
    display_name: str | None = None

    @property
    def owner(self) -> str:
        """Whose idempotency keys these are: a signed-in person by their issuer and subject
        (a static token named like their username never shares them), a static token by
        its name."""
        if self.issuer is not None and self.subject is not None:
            return f"{self.issuer}\x1e{self.subject}"
        return self.name


SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where a request came from, recorded on every audit entry."""

    actor: Actor
    source_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None  # confid's own id of the request
    client_request_id: str | None = None  # the client's X-Request-Id, when valid


SYSTEM_META = RequestMeta(actor=SYSTEM_ACTOR)


@dataclass(frozen=True, slots=True)
class Notification:
    """A recorded email, its delivery status and the history of its hand-over attempts."""

    id: str
    kind: NotificationKind
    to: tuple[str, ...]
    subject: str
    body: str
    conference_id: str
    status: NotificationStatus
    created_at: datetime
    to_primary_address: bool
    audit_sequence: int
    user_id: str
    operation_id: str
    last_error: str | None = None  # the latest failed attempt's reason (kept after a success)
    attempts: int = 0  # hand-overs begun, each counted as it begins
    next_attempt_at: datetime | None = None  # when a RETRYING email is due again
    sent_at: datetime | None = None  # when the mail server accepted it
    resend_of: str | None = None  # the FAILED notification this one sends again

"""What readers ask for and get back: value types shared by the store, services and API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.entry import AuditEntry
from app.domain.instants import iso_millis
from app.domain.models import AuditAction, AuditOutcome, RequestMeta


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a reader wants; every field optional, all combined with AND."""

    user_id: str | None = None
    actions: tuple[AuditAction, ...] = ()
    action: AuditAction | None = None
    outcome: AuditOutcome | None = None
    actor: str | None = None  # the actor's name: a token's name or a person's username
    actor_subject: str | None = None  # a person's `sub` at the issuer (stable across renames)
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    incident_id: str | None = None

    def describe(self) -> dict[str, str]:
        """The filter in plain words, for manifests and the access log."""
        out: dict[str, str] = {}
        if self.user_id is not None:
            out["userId"] = self.user_id
        if self.action is not None:
            out["action"] = self.action.value
        elif self.actions:
            out["actions"] = ",".join(a.value for a in self.actions)
        if self.outcome is not None:
            out["outcome"] = self.outcome.value
        if self.actor is not None:
            out["actor"] = self.actor
        if self.actor_subject is not None:
            out["actorSubject"] = self.actor_subject
        if self.occurred_from is not None:
            out["from"] = iso_millis(self.occurred_from)
        if self.occurred_to is not None:
            out["to"] = iso_millis(self.occurred_to)
        if self.incident_id is not None:
            out["incidentId"] = self.incident_id
        return out

    @property
    def empty(self) -> bool:
        return not self.describe()


def entry_matches(where: AuditFilter, entry: AuditEntry) -> bool:
    """True when the entry is one `where` asks for (what `audit_query` selects in the
    database, decided for one entry in hand: live subscriptions filter this way)."""
    actions = (where.action,) if where.action is not None else where.actions
    at = entry.occurred_at
    return (
        (where.user_id is None or entry.user_id == where.user_id)
        and (not actions or entry.action in actions)
        and (where.outcome is None or entry.outcome is where.outcome)
        and (where.actor is None or entry.actor.name == where.actor)
        and (where.occurred_from is None or at >= where.occurred_from)
        and (where.occurred_to is None or at < where.occurred_to)
    )


@dataclass(frozen=True, slots=True)
class UserKey:
    """Where a user sits in the directory order (display name, then id): a page position."""

    name_key: str
    user_id: str


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One read of the audit trail: who, from where, what, with which filters."""

    id: str
    at: datetime
    what: str
    details: dict[str, str]
    meta: RequestMeta

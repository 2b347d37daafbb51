"""A change in flight: what a user's lock records so a crashed change can be finished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.models import AuditAction, RequestMeta


@dataclass(frozen=True, slots=True)
class Intent:
    """Everything needed to complete (or undo) one change of one user.

    It is written onto the user's document together with the lock, before any other step,
    so that recovery can finish the change exactly as the request would have.
    `committed` flips, atomically with the user's new ID, at the commit point.
    """

    operation_id: str
    action: AuditAction
    user_id: str
    bridge_id: str | None
    new_conference_id: str | None
    previous_conference_id: str | None
    reason: str | None
    meta: RequestMeta
    send_email: bool
    to_address: str | None
    started_at: datetime
    committed: bool = False
    resend_of: str | None = None  # a send that sends this FAILED notification again

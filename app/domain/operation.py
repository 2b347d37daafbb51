"""A change as it is asked for (`ChangeRequest`) and as its lock records it (`Intent`)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from app.domain.models import AuditAction, RequestMeta


def new_operation_id() -> str:
    """A fresh, unguessable operation id."""
    return "op_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """One enable, set, reset or send for one user, as the caller asked for it.

    `user_id` is a stored id that may name nobody (refused as NOT_FOUND, audited);
    `conference_id` is the chosen ID of a SET; `bridge_id` the bridge of an ASSIGN (None:
    the default bridge); `to_address` the other address of a SEND_INFO; `send_email` is
    already resolved against the tenant setting.
    """

    action: AuditAction
    user_id: str
    meta: RequestMeta
    operation_id: str
    send_email: bool = True
    bridge_id: str | None = None
    conference_id: str | None = None
    reason: str | None = None
    to_address: str | None = None
    resend_of: str | None = None  # SEND_INFO: the FAILED notification this sends again
    incident_id: str | None = None  # the bulk reset job (incident) this change belongs to

    def fingerprint(self) -> str:
        """A stable digest of what was asked (not who asked, nor the operation), which tells
        an idempotent retry from a different request under the same key."""
        asked = [
            self.action.value, self.user_id, self.bridge_id, self.conference_id, self.reason,
            self.send_email, self.to_address, self.resend_of,
        ]  # fmt: skip
        if self.incident_id is not None:  # absent: digests of keys stored before stay valid
            asked.append(self.incident_id)
        text = json.dumps(asked, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    incident_id: str | None = None  # the bulk reset job (incident) the change belongs to

    @classmethod
    def of(cls, request: ChangeRequest, started_at: datetime) -> Intent:
        """The intent of a request whose lock is being taken now."""
        return cls(
            operation_id=request.operation_id,
            action=request.action,
            user_id=request.user_id,
            bridge_id=request.bridge_id,
            new_conference_id=request.conference_id,
            previous_conference_id=None,
            reason=request.reason,
            meta=request.meta,
            send_email=request.send_email,
            to_address=request.to_address,
            started_at=started_at,
            resend_of=request.resend_of,
            incident_id=request.incident_id,
        )

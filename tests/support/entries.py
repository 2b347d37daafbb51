"""Audit entries to hash, read and export."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.entry import AuditDraft
from app.domain.errors import UserErrorCode
from app.domain.models import SYSTEM_META, Actor, AuditAction, AuditOutcome, RequestMeta, Role


def draft(**meta: str | None) -> AuditDraft:
    """A refused send with every field filled, awkward text included; `meta` adds to the
    request's metadata (fields that came later, such as `client_request_id`)."""
    return AuditDraft(
        occurred_at=datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC),
        action=AuditAction.SEND_INFO,
        outcome=AuditOutcome.REJECTED,
        error_codes=(UserErrorCode.INVALID_EMAIL, UserErrorCode.NOT_ENABLED),
        user_id="u00007",
        bridge_id=None,
        previous_conference_id="8390146",
        new_conference_id=None,
        meta=RequestMeta(Actor("alice", Role.ADMIN), "203.0.113.7", 'curl/8 "q"', "r-1", **meta),
        reason="née – ünïcode\nline two",
        recipients=("a@x.example", "ü@y.example"),
        to_non_primary=True,
        operation_id="op_1",
    )


def numbered_draft(n: int) -> AuditDraft:
    """The n-th entry of a plain chain: a system reset of user `u<n>`, operation `op<n>`."""
    return AuditDraft(
        occurred_at=datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC),
        action=AuditAction.RESET,
        outcome=AuditOutcome.SUCCESS,
        error_codes=(),
        user_id=f"u{n}",
        bridge_id="default",
        previous_conference_id="8390146",
        new_conference_id="5550147",
        meta=SYSTEM_META,
        reason="née – ünïcode",
        recipients=(),
        to_non_primary=False,
        operation_id=f"op{n}",
    )

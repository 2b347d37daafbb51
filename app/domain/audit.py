"""Audit-chain hashing: canonical encoding of an entry and SHA-256 linking and checking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.domain.errors import UserErrorCode
from app.domain.models import AuditAction, AuditEntry, AuditOutcome, RequestMeta

GENESIS_HASH = "0" * 64


def to_millis_utc(moment: datetime) -> datetime:
    """The form a timestamp has after a MongoDB round trip: UTC, cut to milliseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso_millis(moment: datetime) -> str:
    """ISO-8601 UTC with exactly three fractional digits and a Z."""
    m = to_millis_utc(moment)
    return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"


def canonical_fields(entry: AuditEntry) -> dict[str, Any]:
    """Every field of the entry except its own hash, in plain JSON types."""
    return {
        "sequence": entry.sequence,
        "occurredAt": iso_millis(entry.occurred_at),
        "action": entry.action.value,
        "outcome": entry.outcome.value,
        "errorCodes": [c.value for c in entry.error_codes],
        "userId": entry.user_id,
        "bridgeId": entry.bridge_id,
        "previousConferenceId": entry.previous_conference_id,
        "newConferenceId": entry.new_conference_id,
        "actor": {"name": entry.actor.name, "role": entry.actor.role.value},
        "sourceIp": entry.source_ip,
        "userAgent": entry.user_agent,
        "requestId": entry.request_id,
        "reason": entry.reason,
        "recipients": list(entry.recipients),
        "toNonPrimary": entry.to_non_primary,
        "operationId": entry.operation_id,
        "previousHash": entry.previous_hash,
    }


def canonical_bytes(entry: AuditEntry) -> bytes:
    """Sorted-key, whitespace-free UTF-8 JSON: the exact bytes that are hashed."""
    return json.dumps(
        canonical_fields(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) over the canonical encoding, which includes `previousHash`."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of recomputing the chain."""

    ok: bool
    checked: int
    first_invalid_sequence: int | None
    reason: str | None
    head_hash: str | None


class ChainVerifier:
    """Feed entries in ascending storage order; stops judging at the first bad one."""

    def __init__(self) -> None:
        self._expected = 1
        self._previous_hash = GENESIS_HASH
        self._checked = 0
        self._bad: tuple[int, str] | None = None

    @property
    def failed(self) -> bool:
        """True once an entry has failed; later entries are not judged."""
        return self._bad is not None

    def feed_unreadable(self, sequence: int, why: str) -> None:
        """Record that the stored entry at `sequence` could not even be decoded."""
        if self._bad is None:
            self._bad = (min(sequence, self._expected), f"entry {sequence} is malformed: {why}")

    def feed(self, entry: AuditEntry) -> None:
        """Check one entry against the chain so far."""
        if self._bad is not None:
            return
        if entry.sequence != self._expected:
            if entry.sequence > self._expected:
                missing = self._expected
                why = f"entry {missing} is missing (the next stored entry is {entry.sequence})"
            else:
                missing = entry.sequence
                why = f"entry {entry.sequence} is out of order or duplicated"
            self._bad = (missing, why)
            return
        if entry.previous_hash != self._previous_hash:
            self._bad = (
                entry.sequence,
                f"previousHash of entry {entry.sequence} does not match the hash of the "
                "entry before it (an entry was removed, inserted or rewritten)",
            )
            return
        if entry_hash(entry) != entry.hash:
            self._bad = (
                entry.sequence,
                f"entry {entry.sequence} does not match its hash (its contents were edited)",
            )
            return
        self._checked += 1
        self._expected += 1
        self._previous_hash = entry.hash

    def result(self) -> ChainVerification:
        """The verdict over everything fed so far."""
        if self._bad is not None:
            return ChainVerification(False, self._checked, self._bad[0], self._bad[1], None)
        head = self._previous_hash if self._checked else None
        return ChainVerification(True, self._checked, None, None, head)


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An audit entry before it has a place in the chain."""

    occurred_at: datetime
    action: AuditAction
    outcome: AuditOutcome
    error_codes: tuple[UserErrorCode, ...]
    user_id: str | None
    bridge_id: str | None
    previous_conference_id: str | None
    new_conference_id: str | None
    meta: RequestMeta
    reason: str | None
    recipients: tuple[str, ...]
    to_non_primary: bool
    operation_id: str


def seal(draft: AuditDraft, sequence: int, previous_hash: str) -> AuditEntry:
    """Place a draft at `sequence` after `previous_hash` and compute its hash."""
    unsealed = AuditEntry(
        sequence=sequence,
        occurred_at=to_millis_utc(draft.occurred_at),
        action=draft.action,
        outcome=draft.outcome,
        error_codes=draft.error_codes,
        user_id=draft.user_id,
        bridge_id=draft.bridge_id,
        previous_conference_id=draft.previous_conference_id,
        new_conference_id=draft.new_conference_id,
        actor=draft.meta.actor,
        source_ip=draft.meta.source_ip,
        user_agent=draft.meta.user_agent,
        request_id=draft.meta.request_id,
        reason=draft.reason,
        recipients=draft.recipients,
        to_non_primary=draft.to_non_primary,
        operation_id=draft.operation_id,
        previous_hash=previous_hash,
        hash="",
    )
    return replace(unsealed, hash=entry_hash(unsealed))

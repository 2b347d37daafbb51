"""Canonical encoding, sealing and chain verification, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from app.domain.audit import GENESIS_HASH, AuditDraft, ChainVerifier, canonical_bytes, seal
from app.domain.models import SYSTEM_META, AuditAction, AuditEntry, AuditOutcome


def draft(n: int) -> AuditDraft:
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


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entries.append(seal(draft(i), i, previous))
        previous = entries[-1].hash
    return entries


def verify(entries: list[AuditEntry]) -> tuple[bool, int | None]:
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    result = v.result()
    return result.ok, result.first_invalid_sequence


def test_sealing_cuts_to_milliseconds_as_mongodb_does() -> None:
    entry = seal(draft(1), 1, GENESIS_HASH)
    assert entry.occurred_at.microsecond == 123000
    assert b'"occurredAt":"2026-11-29T08:30:00.123Z"' in canonical_bytes(entry)


def test_a_clean_chain_verifies() -> None:
    entries = chain(5)
    assert verify(entries) == (True, None)
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    assert v.result().head_hash == entries[-1].hash


def test_an_edited_field_is_found() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], new_conference_id="0000001")
    assert verify(entries) == (False, 3)


def test_a_deleted_entry_is_named() -> None:
    entries = chain(5)
    del entries[1]
    assert verify(entries) == (False, 2)


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    entries = chain(5)
    edited = replace(entries[2], reason="rewritten")
    entries[2] = seal(replace(draft(3), reason="rewritten"), edited.sequence, edited.previous_hash)
    assert verify(entries) == (False, 4)


def test_empty_chain_is_ok() -> None:
    assert verify([]) == (True, None)

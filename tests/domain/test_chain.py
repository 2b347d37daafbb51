"""Sealing a draft into the next entry of the chain (app.domain.chain), pure."""

from __future__ import annotations

from app.domain.chain import GENESIS_HASH, seal
from app.domain.encoding import canonical_bytes
from tests.support.entries import numbered_draft


def test_sealing_cuts_to_milliseconds_as_mongodb_does() -> None:
    entry = seal(numbered_draft(1), 1, GENESIS_HASH)
    assert entry.occurred_at.microsecond == 123000
    assert b'"occurredAt":"2026-11-29T08:30:00.123Z"' in canonical_bytes(entry)

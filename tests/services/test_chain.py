"""Appending to the audit chain (app.services.chain): appends from two processes on one
database stay gapless and linked; an operation is appended once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from app.domain.entry import AuditDraft
from app.domain.models import SYSTEM_META, AuditAction, AuditOutcome
from app.domain.verifier import ChainVerifier
from app.services.chain import AuditChain
from app.store.audit import AuditRepository
from app.store.indexes import ensure_indexes
from tests.support.database import WrappedDatabase


def draft(op: str) -> AuditDraft:
    return AuditDraft(
        occurred_at=datetime.now(UTC),
        action=AuditAction.RESET,
        outcome=AuditOutcome.SUCCESS,
        error_codes=(),
        user_id="u1",
        bridge_id="default",
        previous_conference_id=None,
        new_conference_id=None,
        meta=SYSTEM_META,
        reason=None,
        recipients=(),
        to_non_primary=False,
        operation_id=op,
    )


async def test_two_writers_interleave_without_gaps(raw_database: Any) -> None:
    await ensure_indexes(raw_database)
    db = WrappedDatabase(raw_database, interleave=True)
    # Two processes, two head caches.
    one, two = AuditChain(AuditRepository(db), None), AuditChain(AuditRepository(db), None)
    await asyncio.gather(*[(one if n % 2 else two).append(draft(f"op{n}")) for n in range(40)])
    verifier = ChainVerifier()
    async for stored in AuditRepository(db).ascending(page_size=7):
        assert stored.entry is not None
        verifier.feed(stored.entry)
    result = verifier.result()
    assert result.ok and result.checked == 40


async def test_an_operation_is_appended_once(raw_database: Any) -> None:
    await ensure_indexes(raw_database)
    first = await AuditChain(AuditRepository(raw_database), None).append(draft("op-1"))
    again = await AuditChain(AuditRepository(raw_database), None).append(draft("op-1"))
    assert again.sequence == first.sequence
    assert await raw_database.get_collection("audit_events").count_documents({}) == 1

"""Appending to the audit chain: seal each draft after the head, sign it, store it once.

Within one process appends take turns on `_append_mutex` and the head is cached, so a
normal append is a single insert. Across processes the sequence is the document's `_id`:
the loser of a race re-reads the head and seals the draft again for the next place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from app.domain.chain import seal
from app.domain.entry import AuditDraft, AuditEntry
from app.domain.errors import StoreError
from app.domain.signing import Signer
from app.services.observer import NO_OBSERVER, Observer
from app.store.audit import AuditRepository

MAX_APPEND_ATTEMPTS = 1000


class AuditChain:
    """The only writer of `audit_events`."""

    def __init__(
        self,
        entries: AuditRepository,
        signer: Signer | None,
        observer: Observer = NO_OBSERVER,
        on_append: Callable[[], None] | None = None,
    ) -> None:
        self._entries = entries
        self._observer = observer
        self.signer = signer
        self._on_append = on_append  # e.g. wakes this process's live tail
        self._append_mutex = asyncio.Lock()
        self._head: tuple[int, str] | None = None

    async def append(self, draft: AuditDraft) -> AuditEntry:
        """Add the draft as the next entry and return it sealed; an operation that is
        already in the chain gets its entry back (one entry per operation)."""
        async with self._append_mutex:
            head = self._head or await self._entries.head()
            for _ in range(MAX_APPEND_ATTEMPTS):
                entry = seal(draft, head[0] + 1, head[1], self.signer)
                try:
                    stored = await self._entries.insert(entry)
                except BaseException:
                    self._head = None  # unknown whether it landed: re-read next time
                    raise
                if stored:
                    self._head = (entry.sequence, entry.hash)
                    self._observer.audited(entry.action, entry.outcome)
                    if self._on_append is not None:
                        self._on_append()
                    return entry
                existing = await self._entries.by_operation(draft.operation_id)
                if existing is not None:
                    return existing
                head = await self._entries.head()  # another process appended first
            raise StoreError("could not append to the audit trail: the head kept moving")

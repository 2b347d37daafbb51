"""Signed checkpoints of the audit chain head: periodic, and on demand."""

from __future__ import annotations

import logging

from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.signing import Signer
from app.services.clock import Clock
from app.store.audit import AuditRepository
from app.store.checkpoints import CheckpointRepository

log = logging.getLogger("confid.checkpoints")


class CheckpointService:
    """Signs (sequence, hash, time) of the newest entry, even when nothing changed."""

    def __init__(
        self,
        audit: AuditRepository,
        checkpoints: CheckpointRepository,
        signer: Signer | None,
        clock: Clock,
    ) -> None:
        self._audit = audit
        self._checkpoints = checkpoints
        self.signer = signer
        self._clock = clock

    async def create(self) -> Checkpoint | None:
        """Sign and store the current head; None when no signing key is configured."""
        if self.signer is None:
            return None
        sequence, head_hash = await self._audit.head()
        signed_at = self._clock()
        checkpoint = Checkpoint(
            sequence=sequence,
            hash=head_hash,
            signed_at=signed_at,
            key_id=self.signer.key_id,
            signature=self.signer.sign(checkpoint_message(sequence, head_hash, signed_at)),
        )
        await self._checkpoints.insert(checkpoint)
        log.info("audit checkpoint signed at sequence %d", sequence)
        return checkpoint

    async def all(self, up_to: int | None = None) -> list[Checkpoint]:
        return await self._checkpoints.all(up_to)

    async def page(
        self, first: int, before: str | None
    ) -> tuple[list[tuple[str, Checkpoint]], bool]:
        return await self._checkpoints.page(first, before)

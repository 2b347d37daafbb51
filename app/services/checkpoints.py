"""Signed checkpoints of the audit chain head: periodic, and on demand."""

from __future__ import annotations

import logging

from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.signing import Signer
from app.domain.verifier import ChainVerification
from app.services.clock import Clock
from app.services.verification import TrailVerifier
from app.store.audit import AuditRepository
from app.store.checkpoints import CheckpointRepository

log = logging.getLogger("confid.checkpoints")


class CheckpointService:
    """Signs (sequence, hash, time) of the newest entry, even when nothing changed.

    A checkpoint vouches for every entry before it (fast verification checks no signature
    it covers), so it is only signed over entries that verified one by one: those after
    the newest valid checkpoint are checked first, and a trail that fails is not signed.
    """

    def __init__(
        self,
        audit: AuditRepository,
        checkpoints: CheckpointRepository,
        signer: Signer | None,
        clock: Clock,
        verifier: TrailVerifier,
    ) -> None:
        self._audit = audit
        self._checkpoints = checkpoints
        self.signer = signer
        self._clock = clock
        self._verifier = verifier

    async def create(self) -> Checkpoint | None:
        """Sign and store the current head; None when no signing key is configured or
        when the entries the checkpoint would vouch for do not verify (logged)."""
        outcome = await self.attempt()
        return outcome if isinstance(outcome, Checkpoint) else None

    async def attempt(self) -> Checkpoint | ChainVerification | None:
        """The new checkpoint; or the failed verification that kept it from being signed;
        None when no signing key is configured."""
        if self.signer is None:
            return None
        sequence, head_hash = await self._audit.head()
        checked = await self._verifier.uncovered(sequence)
        if not checked.ok:
            log.error(
                "audit checkpoint NOT signed: the trail does not verify at sequence %s (%s)",
                checked.first_invalid_sequence,
                checked.reason,
            )
            return checked
        head_hash = checked.head_hash or head_hash  # the hash that was just verified
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

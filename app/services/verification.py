"""Verifying the stored trail: the whole of it, what followed a signed checkpoint, and what
a new checkpoint is about to vouch for."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.chain import PublicKeys
from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.errors import BadRequest
from app.domain.signing import Signer, key_id, verify
from app.domain.verifier import ChainVerification, ChainVerifier
from app.store.audit import AuditRepository
from app.store.checkpoints import CheckpointRepository


class TrailVerifier:
    """Reads the trail in bounded pages and feeds it to the one `ChainVerifier`.

    A full verification checks Ed25519 signatures only for the checkpoints and for entries
    no checkpoint vouches for (see `ChainVerifier`). That is sound because a checkpoint is
    only ever signed over entries that verified one by one (`uncovered`): no checkpoint
    vouches for an entry that was forged before it was signed.
    """

    def __init__(
        self,
        audit: AuditRepository,
        checkpoints: CheckpointRepository,
        signer: Signer | None,
        previous_keys: list[Ed25519PublicKey] | None = None,
        signed_from: int = 1,
    ) -> None:
        self._audit = audit
        self._checkpoints = checkpoints
        self.signer = signer
        self._previous_keys = previous_keys or []
        self.signed_from = signed_from

    def public_keys(self) -> dict[str, Ed25519PublicKey] | None:
        """The keys entries and checkpoints may be signed with: the current one and any
        previous ones (after a rotation). None when signing is off."""
        if self.signer is None:
            return None
        keys = {key_id(k): k for k in self._previous_keys}
        keys[self.signer.key_id] = self.signer.public
        return keys

    async def verify(
        self, *, from_checkpoint: int | None = None, every_signature: bool = False
    ) -> ChainVerification:
        """The whole trail, or only what was appended after the signed checkpoint(s) at
        sequence `from_checkpoint` (BadRequest when none was signed there)."""
        checkpoints = await self._checkpoints.all()
        verifier = ChainVerifier(
            self.public_keys(),
            checkpoints,
            signed_from=self.signed_from,
            every_signature=every_signature,
        )
        after = 0
        if from_checkpoint is not None:
            if not any(cp.sequence == from_checkpoint for cp in checkpoints):
                raise BadRequest(
                    f"No checkpoint was signed at sequence {from_checkpoint}: pass the "
                    "`sequence` of one listed by `auditCheckpoints`."
                )
            anchor = (
                (await self._audit.get_many([from_checkpoint])).get(from_checkpoint)
                if from_checkpoint > 0
                else None
            )
            verifier.resume(from_checkpoint, anchor)
            after = from_checkpoint
        return await self._feed(verifier, after)

    async def _feed(
        self, verifier: ChainVerifier, after: int, up_to: int | None = None
    ) -> ChainVerification:
        if not verifier.failed:
            async for stored in self._audit.ascending(after=after, up_to=up_to):
                if stored.entry is None:
                    verifier.feed_unreadable(stored.sequence, stored.problem or "unreadable")
                else:
                    verifier.feed(stored.entry)
                if verifier.failed:
                    break
        return verifier.result()

    async def uncovered(self, up_to: int) -> ChainVerification:
        """Every entry up to `up_to` that no valid checkpoint vouches for yet, each with its
        own signature checked: what a new checkpoint at `up_to` is about to vouch for. It
        starts after the newest checkpoint that is validly signed by a known key (the
        genesis when there is none)."""
        keys = self.public_keys()
        anchor = _newest_valid(await self._checkpoints.all(up_to), keys)
        verifier = ChainVerifier(
            keys,
            [anchor] if anchor is not None else [],
            signed_from=self.signed_from,
            every_signature=True,
        )
        after = 0
        if anchor is not None and anchor.sequence > 0:
            stored = (await self._audit.get_many([anchor.sequence])).get(anchor.sequence)
            verifier.resume(anchor.sequence, stored)
            after = anchor.sequence
        return await self._feed(verifier, after, up_to)


def _newest_valid(checkpoints: list[Checkpoint], keys: PublicKeys | None) -> Checkpoint | None:
    """The highest checkpoint whose signature verifies with one of `keys`."""
    for cp in sorted(checkpoints, key=lambda c: c.sequence, reverse=True):
        public = (keys or {}).get(cp.key_id)
        if public is not None and verify(
            public, cp.signature, checkpoint_message(cp.sequence, cp.hash, cp.signed_at)
        ):
            return cp
    return None

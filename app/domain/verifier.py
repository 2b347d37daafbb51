"""Verifying the chain: every entry's hash and link and the gapless sequence; signatures
where no signed checkpoint vouches for an entry (or on every entry when asked)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.chain import GENESIS_HASH, EntryFault, PublicKeys, entry_hash
from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.entry import AuditEntry
from app.domain.instants import iso_millis
from app.domain.signing import verify


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of recomputing the chain."""

    ok: bool
    checked: int
    first_invalid_sequence: int | None
    reason: str | None
    head_hash: str | None
    checkpoints_checked: int = 0
    signatures_checked: int = 0  # Ed25519 checks of entries (checkpoints not counted)


# Entries whose signature check waits for the checkpoint that will vouch for them. When
# checkpoints lie further apart than this, the waiting entries are checked one by one, so
# memory never grows with the gap between checkpoints.
DEFERRED_MAX = 20_000


# What a deferred signature check needs of an entry (not the whole entry): its sequence,
# hash, key id and signature. A plain tuple: one is made per entry on the fast path.
_Deferred = tuple[int, str, str | None, str | None]


class ChainVerifier:
    """Feed entries in storage order; judging stops at the first bad one.

    With `public_keys`, every entry (from `signed_from` on: signing began there on a trail
    that existed before) must be signed by one of them, and each checkpoint must be validly
    signed and agree with the entry at its sequence; the trail must reach the newest
    checkpoint. With `partial` (a filtered export), gaps between sequences are expected and
    links are only checked between consecutive entries.

    Fast verification (the default on a whole trail): a validly signed checkpoint that
    agrees with the entry at its sequence authenticates that entry's hash, and through the
    hash links every entry before it. So an entry's own signature is only checked when no
    later checkpoint will vouch for it (entries after the newest checkpoint). Entries that
    wait for a checkpoint are kept aside (sequence, hash, key, signature only); when the
    checkpoint vouches, they are done. When anything fails, the waiting entries are checked
    one by one first, so the first bad sequence and its words are exactly those a check of
    every signature would report. `every_signature` checks each entry's signature as it
    comes (the pre-checkpoint behaviour; also the evidence for an auditor who wants it).
    """

    def __init__(
        self,
        public_keys: PublicKeys | None = None,
        checkpoints: list[Checkpoint] | None = None,
        *,
        partial: bool = False,
        signed_from: int = 1,
        every_signature: bool = False,
    ) -> None:
        self._keys = public_keys
        self._signed_from = signed_from
        self._partial = partial
        self._expected = 1
        self._last_sequence = 0
        self._previous_hash = GENESIS_HASH
        self._checked = 0
        self._signatures = 0
        self._bad: tuple[int, str] | None = None
        self._checkpoints: dict[int, list[Checkpoint]] = {}
        self._checkpoints_checked = 0
        self._deferred: list[_Deferred] = []
        for cp in sorted(checkpoints or [], key=lambda c: c.sequence):
            self._checkpoints.setdefault(cp.sequence, []).append(cp)
        # Checkpoints of an empty trail (sequence 0) can only be judged at the end.
        self._fast = public_keys is not None and not partial and not every_signature
        self._vouched_up_to = max(self._checkpoints, default=0) if self._fast else 0

    # --- checkpoints -------------------------------------------------------------------

    def _checkpoint_signed(self, cp: Checkpoint) -> bool:
        public = (self._keys or {}).get(cp.key_id)
        message = checkpoint_message(cp.sequence, cp.hash, cp.signed_at)
        return public is not None and verify(public, cp.signature, message)

    @staticmethod
    def _unsigned_checkpoint(cp: Checkpoint) -> str:
        return (
            f"the checkpoint at sequence {cp.sequence} is not validly signed by confid's key "
            "(forged or altered checkpoint)"
        )

    def _judge_checkpoints(self, entry: AuditEntry) -> bool:
        """Every checkpoint at the entry's sequence: signed, and agreeing with it. A
        checkpoint's signature is judged where the chain reaches its sequence, so the first
        bad sequence reported is the lowest one, whatever kind of check fails."""
        seq = entry.sequence
        for cp in self._checkpoints.get(seq, []):
            if not self._checkpoint_signed(cp):
                self._fail(max(cp.sequence, 1), self._unsigned_checkpoint(cp))
                return False
            if cp.hash != entry.hash:
                self._fail(
                    seq,
                    f"entry {seq} differs from the checkpoint signed at "
                    f"{iso_millis(cp.signed_at)} (the trail up to it was rewritten)",
                )
                return False
            self._checkpoints_checked += 1
        return True

    # --- signatures --------------------------------------------------------------------

    def _signed(self, digest: str, key: str | None, signature: str | None) -> bool:
        self._signatures += 1
        public = (self._keys or {}).get(key or "")
        return (
            public is not None
            and bool(signature)
            and verify(public, signature or "", digest.encode("ascii"))
        )

    def _first_unsigned(self) -> int | None:
        """Check the waiting entries one by one; the first without a valid signature."""
        waiting, self._deferred = self._deferred, []
        for sequence, digest, key, signature in waiting:
            if not self._signed(digest, key, signature):
                return sequence
        return None

    def _fail(self, sequence: int, reason: str) -> None:
        """Record the first bad sequence; an entry waiting for a checkpoint that fails its
        own signature check comes first (it is lower, as a full check would find)."""
        unsigned = self._first_unsigned()
        if unsigned is not None:
            self._unsigned_at(unsigned)
        else:
            self._bad = (sequence, reason)

    def _unsigned_at(self, sequence: int) -> None:
        """An entry accepted while it waited for a checkpoint turns out unsigned: it and the
        entries accepted after it no longer count as verified."""
        self._bad = (sequence, f"entry {sequence} {EntryFault.UNSIGNED.value}")
        self._checked -= max(0, self._last_sequence - sequence + 1)

    # --- feeding -----------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        """True once an entry has failed; later entries are not judged."""
        return self._bad is not None

    def resume(self, sequence: int, anchor: AuditEntry | None) -> None:
        """Verify only what follows the checkpoint(s) at `sequence`: they must be validly
        signed and agree with `anchor`, the stored entry there (None: it is missing); the
        chain then continues from it. Call before feeding; checkpoints before it are not
        judged. Raises ValueError when no checkpoint was given at `sequence`."""
        if sequence not in self._checkpoints:
            raise ValueError(f"no checkpoint at sequence {sequence}")
        for earlier in [s for s in self._checkpoints if s < sequence]:
            del self._checkpoints[earlier]
        if sequence == 0:
            return  # the empty trail: the whole chain follows (judged in `result`)
        if anchor is None or anchor.sequence != sequence:
            cp = self._checkpoints[sequence][-1]
            self._bad = (
                sequence,
                f"entry {sequence} is missing: a checkpoint signed at "
                f"{iso_millis(cp.signed_at)} covers sequence {sequence}",
            )
            return
        if entry_hash(anchor) != anchor.hash:
            self._bad = (sequence, f"entry {sequence} {EntryFault.EDITED.value}")
            return
        if not self._judge_checkpoints(anchor):
            return
        del self._checkpoints[sequence]
        self._vouched_up_to = max(self._checkpoints, default=0) if self._fast else 0
        self._expected = sequence + 1
        self._last_sequence = sequence
        self._previous_hash = anchor.hash

    def feed_unreadable(self, sequence: int, why: str) -> None:
        """Record that the stored entry at `sequence` could not even be decoded."""
        if self._bad is None:
            self._fail(min(sequence, self._expected), f"entry {sequence} is malformed: {why}")

    def feed(self, entry: AuditEntry) -> None:
        """Check one entry against the chain so far."""
        if self._bad is not None:
            return
        seq = entry.sequence
        if self._partial:
            if seq <= self._last_sequence:
                self._fail(seq, f"entry {seq} is out of order or duplicated")
                return
        elif seq != self._expected:
            if seq > self._expected:
                self._fail(
                    self._expected,
                    f"entry {self._expected} is missing or out of place (entry {seq} "
                    "stands where it should be)",
                )
            else:
                self._fail(seq, f"entry {seq} is out of order or duplicated")
            return
        linked = not self._partial or seq == self._last_sequence + 1 or seq == 1
        if linked and entry.previous_hash != self._previous_hash:
            self._fail(
                seq,
                f"previousHash of entry {seq} does not match the hash of the entry before "
                "it (an entry was removed, inserted or rewritten)",
            )
            return
        if entry_hash(entry) != entry.hash:
            self._fail(seq, f"entry {seq} {EntryFault.EDITED.value}")
            return
        if self._keys is not None and (
            entry.signature is not None or seq >= self._signed_from  # signature_required
        ):
            if seq <= self._vouched_up_to:  # a later checkpoint will vouch for it
                self._deferred.append((seq, entry.hash, entry.key_id, entry.signature))
                if len(self._deferred) >= DEFERRED_MAX:
                    unsigned = self._first_unsigned()
                    if unsigned is not None:
                        self._unsigned_at(unsigned)
                        return
            elif not self._signed(entry.hash, entry.key_id, entry.signature):
                self._fail(seq, f"entry {seq} {EntryFault.UNSIGNED.value}")
                return
        if seq in self._checkpoints:
            if not self._judge_checkpoints(entry):
                return
            self._deferred.clear()  # vouched for: authenticated through the hash links
        self._checked += 1
        self._expected = seq + 1
        self._last_sequence = seq
        self._previous_hash = entry.hash

    def result(self) -> ChainVerification:
        """The verdict over everything fed so far."""
        if self._bad is None and self._deferred:
            # The checkpoint they waited for was never reached (entries cut off the end):
            # their own signatures decide first, as a check of every signature would.
            unsigned = self._first_unsigned()
            if unsigned is not None:
                self._unsigned_at(unsigned)
        if self._bad is None and self._checkpoints and not self._partial:
            unreached = [
                cp
                for sequence, cps in self._checkpoints.items()
                if sequence == 0 or sequence > self._last_sequence
                for cp in cps
            ]
            for cp in unreached:
                if not self._checkpoint_signed(cp):
                    self._bad = (max(cp.sequence, 1), self._unsigned_checkpoint(cp))
                    break
            newest = max(self._checkpoints)
            if self._bad is None and newest > self._last_sequence:
                cp = self._checkpoints[newest][-1]
                self._bad = (
                    self._last_sequence + 1,
                    f"entries {self._last_sequence + 1} to {newest} are missing: a checkpoint "
                    f"signed at {iso_millis(cp.signed_at)} covers sequence {newest}",
                )
            elif self._bad is None:
                self._checkpoints_checked += len(self._checkpoints.get(0, []))
        if self._bad is not None:
            return ChainVerification(
                False,
                self._checked,
                self._bad[0],
                self._bad[1],
                None,
                self._checkpoints_checked,
                self._signatures,
            )
        head = self._previous_hash if self._checked or self._last_sequence else None
        return ChainVerification(
            True, self._checked, None, None, head, self._checkpoints_checked, self._signatures
        )

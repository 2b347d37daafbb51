"""The audit chain: sealing a draft into the next entry, and checking entries and links.

`entry_fault` is the one per-entry check (hash, then signature) that `verifyAuditTrail`,
the evidence pack and the offline verifier all use; `ChainVerifier` adds the links between
entries, the gapless sequence and the signed checkpoints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.entry import AuditDraft, AuditEntry, canonical_bytes
from app.domain.instants import iso_millis, to_millis_utc
from app.domain.signing import Signer, verify

GENESIS_HASH = "0" * 64

PublicKeys = Mapping[str, Ed25519PublicKey]


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) over the canonical encoding, which includes `previousHash`."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def seal(
    draft: AuditDraft, sequence: int, previous_hash: str, signer: Signer | None = None
) -> AuditEntry:
    """Place a draft at `sequence` after `previous_hash`, compute its hash, sign the hash."""
    meta = draft.meta
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
        actor=meta.actor,
        source_ip=meta.source_ip,
        user_agent=meta.user_agent,
        request_id=meta.request_id,
        client_request_id=meta.client_request_id,
        reason=draft.reason,
        recipients=draft.recipients,
        to_non_primary=draft.to_non_primary,
        operation_id=draft.operation_id,
        incident_id=draft.incident_id,
        summary=draft.summary,
        previous_hash=previous_hash,
        hash="",
        key_id=signer.key_id if signer else None,
    )
    digest = entry_hash(unsealed)
    signature = signer.sign(digest.encode("ascii")) if signer else None
    return replace(unsealed, hash=digest, signature=signature)


class EntryFault(Enum):
    """What can be wrong with one entry on its own (the words finish "entry N ...")."""

    EDITED = "does not match its hash (its contents were edited)"
    UNSIGNED = "is not signed by confid's key (forged, or rewritten with recomputed hashes)"


def signature_required(entry: AuditEntry, signed_from: int) -> bool:
    """Entries from `signed_from` on must be signed; so must any entry that carries a
    signature field at all (an emptied signature is a tampered one, not an unsigned one)."""
    return entry.signature is not None or entry.sequence >= signed_from


def entry_fault(entry: AuditEntry, keys: PublicKeys | None, signed_from: int) -> EntryFault | None:
    """The one per-entry check: the hash over the contents, then (when signing is on) the
    signature over the hash by one of `keys`. None when the entry is sound on its own."""
    if entry_hash(entry) != entry.hash:
        return EntryFault.EDITED
    if keys is not None and signature_required(entry, signed_from):
        public = keys.get(entry.key_id or "")
        if (
            public is None
            or not entry.signature
            or not verify(public, entry.signature, entry.hash.encode("ascii"))
        ):
            return EntryFault.UNSIGNED
    return None


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of recomputing the chain."""

    ok: bool
    checked: int
    first_invalid_sequence: int | None
    reason: str | None
    head_hash: str | None
    checkpoints_checked: int = 0


class ChainVerifier:
    """Feed entries in storage order; judging stops at the first bad one.

    With `public_keys`, every entry (from `signed_from` on: signing began there on a trail
    that existed before) must carry a valid signature by one of them, and each
    checkpoint must be validly signed and agree with the entry at its sequence; the trail
    must reach the newest checkpoint. With `partial` (a filtered export), gaps between
    sequences are expected and links are only checked between consecutive entries.
    """

    def __init__(
        self,
        public_keys: PublicKeys | None = None,
        checkpoints: list[Checkpoint] | None = None,
        *,
        partial: bool = False,
        signed_from: int = 1,
    ) -> None:
        self._keys = public_keys
        self._signed_from = signed_from
        self._partial = partial
        self._expected = 1
        self._last_sequence = 0
        self._previous_hash = GENESIS_HASH
        self._checked = 0
        self._bad: tuple[int, str] | None = None
        self._checkpoints: dict[int, list[Checkpoint]] = {}
        self._checkpoints_checked = 0
        for cp in sorted(checkpoints or [], key=lambda c: c.sequence):
            self._add_checkpoint(cp)
        # Checkpoints of an empty trail (sequence 0) can only be judged at the end.

    def _add_checkpoint(self, cp: Checkpoint) -> None:
        self._checkpoints.setdefault(cp.sequence, []).append(cp)

    def _signed(self, cp: Checkpoint) -> bool:
        """A checkpoint's signature is judged where the chain reaches its sequence, so the
        first bad sequence reported is the lowest one, whatever kind of check fails."""
        public = (self._keys or {}).get(cp.key_id)
        message = checkpoint_message(cp.sequence, cp.hash, cp.signed_at)
        if public is not None and verify(public, cp.signature, message):
            return True
        self._bad = (
            max(cp.sequence, 1),
            f"the checkpoint at sequence {cp.sequence} is not validly signed by confid's key "
            "(forged or altered checkpoint)",
        )
        return False

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
        seq = entry.sequence
        if self._partial:
            if seq <= self._last_sequence:
                self._bad = (seq, f"entry {seq} is out of order or duplicated")
                return
        elif seq != self._expected:
            if seq > self._expected:
                self._bad = (
                    self._expected,
                    f"entry {self._expected} is missing or out of place (entry {seq} "
                    "stands where it should be)",
                )
            else:
                self._bad = (seq, f"entry {seq} is out of order or duplicated")
            return
        linked = not self._partial or seq == self._last_sequence + 1 or seq == 1
        if linked and entry.previous_hash != self._previous_hash:
            self._bad = (
                seq,
                f"previousHash of entry {seq} does not match the hash of the entry before "
                "it (an entry was removed, inserted or rewritten)",
            )
            return
        fault = entry_fault(entry, self._keys, self._signed_from)
        if fault is not None:
            self._bad = (seq, f"entry {seq} {fault.value}")
            return
        for cp in self._checkpoints.get(seq, []):
            if not self._signed(cp):
                return
            if cp.hash != entry.hash:
                self._bad = (
                    seq,
                    f"entry {seq} differs from the checkpoint signed at "
                    f"{iso_millis(cp.signed_at)} (the trail up to it was rewritten)",
                )
                return
            self._checkpoints_checked += 1
        self._checked += 1
        self._expected = seq + 1
        self._last_sequence = seq
        self._previous_hash = entry.hash

    def result(self) -> ChainVerification:
        """The verdict over everything fed so far."""
        if self._bad is None and self._checkpoints and not self._partial:
            unreached = [
                cp
                for sequence, cps in self._checkpoints.items()
                if sequence == 0 or sequence > self._last_sequence
                for cp in cps
            ]
            for cp in unreached:
                if not self._signed(cp):
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
                False, self._checked, self._bad[0], self._bad[1], None, self._checkpoints_checked
            )
        head = self._previous_hash if self._checked else None
        return ChainVerification(True, self._checked, None, None, head, self._checkpoints_checked)

"""Audit-chain hashing: canonical encoding of an entry and SHA-256 linking and checking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.errors import UserErrorCode
from app.domain.instants import iso_millis, to_millis_utc
from app.domain.models import AuditAction, AuditEntry, AuditOutcome, RequestMeta
from app.domain.signing import Signer, verify

GENESIS_HASH = "0" * 64


def canonical_fields(entry: AuditEntry) -> dict[str, Any]:
    """Every field of the entry except its hash and the signature over that hash."""
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
        "keyId": entry.key_id,
    }


def canonical_json(fields: dict[str, Any]) -> str:
    """The reference encoding: sorted keys, no whitespace, non-ASCII kept as is."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_text = encode_basestring  # json's own C string encoder (the one json.dumps uses)


def _opt(value: str | None) -> str:
    return "null" if value is None else _text(value)


def canonical_bytes(entry: AuditEntry) -> bytes:
    """Exactly `canonical_json(canonical_fields(entry))` as UTF-8, written out directly.

    The keys are fixed, so their sorted order is too; skipping the generic encoder's
    dictionary walk and sort makes the chain check several times faster. A property test
    holds it byte-identical to `canonical_json`.
    """
    return (
        '{"action":' + _text(entry.action.value)
        + ',"actor":{"name":' + _text(entry.actor.name)
        + ',"role":' + _text(entry.actor.role.value)
        + '},"bridgeId":' + _opt(entry.bridge_id)
        + ',"errorCodes":[' + ",".join(_text(c.value) for c in entry.error_codes)
        + '],"keyId":' + _opt(entry.key_id)
        + ',"newConferenceId":' + _opt(entry.new_conference_id)
        + ',"occurredAt":' + _text(iso_millis(entry.occurred_at))
        + ',"operationId":' + _text(entry.operation_id)
        + ',"outcome":' + _text(entry.outcome.value)
        + ',"previousConferenceId":' + _opt(entry.previous_conference_id)
        + ',"previousHash":' + _text(entry.previous_hash)
        + ',"reason":' + _opt(entry.reason)
        + ',"recipients":[' + ",".join(_text(r) for r in entry.recipients)
        + '],"requestId":' + _opt(entry.request_id)
        + ',"sequence":' + str(int(entry.sequence))
        + ',"sourceIp":' + _opt(entry.source_ip)
        + ',"toNonPrimary":' + ("true" if entry.to_non_primary else "false")
        + ',"userAgent":' + _opt(entry.user_agent)
        + ',"userId":' + _opt(entry.user_id)
        + "}"
    ).encode("utf-8")  # fmt: skip


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
        public_keys: dict[str, Ed25519PublicKey] | None = None,
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
        if entry_hash(entry) != entry.hash:
            self._bad = (seq, f"entry {seq} does not match its hash (its contents were edited)")
            return
        if self._keys is not None and (entry.signature is not None or seq >= self._signed_from):
            public = self._keys.get(entry.key_id or "")
            if (
                public is None
                or entry.signature is None
                or not verify(public, entry.signature, entry.hash.encode("ascii"))
            ):
                self._bad = (
                    seq,
                    f"entry {seq} is not signed by confid's key (forged, or rewritten "
                    "with recomputed hashes)",
                )
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


def seal(
    draft: AuditDraft, sequence: int, previous_hash: str, signer: Signer | None = None
) -> AuditEntry:
    """Place a draft at `sequence` after `previous_hash`, compute its hash, sign the hash."""
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
        key_id=signer.key_id if signer else None,
    )
    digest = entry_hash(unsealed)
    signature = signer.sign(digest.encode("ascii")) if signer else None
    return replace(unsealed, hash=digest, signature=signature)

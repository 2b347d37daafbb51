"""The audit chain: sealing a draft into the next entry, and checking entries and links.

`entry_fault` is the one per-entry check (hash, then signature) that `verifyAuditTrail`,
the evidence pack and the offline verifier all use; `ChainVerifier` adds the links between
entries, the gapless sequence and the signed checkpoints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from enum import Enum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.encoding import canonical_bytes
from app.domain.entry import AuditDraft, AuditEntry
from app.domain.instants import to_millis_utc
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


def _validly_signed(entry: AuditEntry, keys: PublicKeys) -> bool:
    """True when the entry carries a valid signature of its hash by one of `keys`."""
    public = keys.get(entry.key_id or "")
    return (
        public is not None
        and bool(entry.signature)
        and verify(public, entry.signature or "", entry.hash.encode("ascii"))
    )


def entry_fault(entry: AuditEntry, keys: PublicKeys | None, signed_from: int) -> EntryFault | None:
    """The one per-entry check: the hash over the contents, then (when signing is on) the
    signature over the hash by one of `keys`. None when the entry is sound on its own."""
    if entry_hash(entry) != entry.hash:
        return EntryFault.EDITED
    if (
        keys is not None
        and signature_required(entry, signed_from)
        and not _validly_signed(entry, keys)
    ):
        return EntryFault.UNSIGNED
    return None

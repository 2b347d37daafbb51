"""The chain verifier (app.domain.verifier), pure: hashes, links and the gapless sequence;
fast verification checks signatures only where no checkpoint vouches, and every finding is
exactly the one a check of every signature reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import verifier as chain_module
from app.domain.chain import GENESIS_HASH, entry_hash, seal
from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.entry import AuditEntry
from app.domain.signing import Signer
from app.domain.verifier import ChainVerification, ChainVerifier
from tests.support.entries import numbered_draft

SIGNER = Signer.generate()
OTHER = Signer.generate()  # a key confid does not know: a forger's
KEYS = {SIGNER.key_id: SIGNER.public}
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def signed_chain(n: int, signer: Signer = SIGNER) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entries.append(seal(numbered_draft(i), i, previous, signer))
        previous = entries[-1].hash
    return entries


def checkpoint(entry: AuditEntry | None, signer: Signer = SIGNER, minutes: int = 0) -> Checkpoint:
    sequence, digest = (entry.sequence, entry.hash) if entry else (0, GENESIS_HASH)
    at = T0 + timedelta(minutes=minutes)
    return Checkpoint(
        sequence, digest, at, signer.key_id, signer.sign(checkpoint_message(sequence, digest, at))
    )


def verified(
    entries: list[AuditEntry], checkpoints: list[Checkpoint], *, every: bool = False
) -> ChainVerification:
    verifier = ChainVerifier(KEYS, checkpoints, every_signature=every)
    for entry in entries:
        verifier.feed(entry)
        if verifier.failed:
            break
    return verifier.result()


def verdict(result: ChainVerification) -> tuple[bool, int | None, str | None, int]:
    return result.ok, result.first_invalid_sequence, result.reason, result.checked


def forged(entries: list[AuditEntry], at: int, **changes: object) -> AuditEntry:
    """The entry at sequence `at`, changed and re-hashed by someone without the key."""
    entry = replace(entries[at - 1], **changes)  # type: ignore[arg-type]
    entry = replace(entry, hash="", signature=None)
    return replace(entry, hash=entry_hash(entry))


def rewrite_from(entries: list[AuditEntry], k: int, signer: Signer | None) -> list[AuditEntry]:
    """Entry k changed, and every later hash and link recomputed (re-signed by `signer`)."""
    out = entries[: k - 1]
    previous = out[-1].hash if out else GENESIS_HASH
    for entry in entries[k - 1 :]:
        changed = replace(entry, previous_hash=previous, hash="", signature=None, key_id=None)
        if entry.sequence == k:
            changed = replace(changed, reason="rewritten")
        if signer is not None:
            changed = replace(changed, key_id=signer.key_id)
        digest = entry_hash(changed)
        signature = signer.sign(digest.encode("ascii")) if signer else None
        out.append(replace(changed, hash=digest, signature=signature))
        previous = digest
    return out


TAMPERINGS = (
    "edit",
    "delete",
    "swap",
    "truncate",
    "rewrite",
    "rewrite-with-other-key",
    "insert-forged",
    "forged-checkpoint",
    "checkpoint-moved",
    "strip-signature-after-checkpoints",
    "two-faults",
)


def tamper(
    kind: str, entries: list[AuditEntry], cps: list[Checkpoint], k: int
) -> tuple[list[AuditEntry], list[Checkpoint]]:
    n = len(entries)
    if kind == "edit":
        return [*entries[: k - 1], replace(entries[k - 1], reason="x"), *entries[k:]], cps
    if kind == "delete":
        return [*entries[: k - 1], *entries[k:]], cps
    if kind == "swap" and k < n:
        a, b = entries[k - 1], entries[k]
        return [*entries[: k - 1], b, a, *entries[k + 1 :]], cps
    if kind == "truncate":
        return entries[: k - 1], cps
    if kind == "rewrite":
        return rewrite_from(entries, k, None), cps
    if kind == "rewrite-with-other-key":
        return rewrite_from(entries, k, OTHER), cps
    if kind == "insert-forged":
        return [*entries, forged(entries, n, sequence=n + 1, previous_hash=entries[-1].hash)], cps
    if kind == "forged-checkpoint" and cps:
        bad = replace(cps[k % len(cps)], signature=OTHER.sign(b"not this"))
        return entries, [*cps, bad]
    if kind == "checkpoint-moved" and cps:
        moved = checkpoint(entries[k - 1], OTHER)  # a checkpoint by a key confid lacks
        return entries, [*cps, replace(moved, key_id=SIGNER.key_id)]
    if kind == "strip-signature-after-checkpoints":
        newest = max((cp.sequence for cp in cps), default=0)
        target = max(k, newest + 1)
        if target <= n:
            stripped = replace(entries[target - 1], signature=None)
            return [*entries[: target - 1], stripped, *entries[target:]], cps
    if kind == "two-faults" and k + 2 <= n:
        rewritten = rewrite_from(entries, k, None)
        rewritten[k + 1] = replace(rewritten[k + 1], reason="edited too")
        return rewritten, cps
    return entries, cps


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=30),
    every=st.integers(min_value=1, max_value=12),
    kind=st.sampled_from(TAMPERINGS),
    k=st.integers(min_value=1, max_value=30),
    window=st.sampled_from([2, 5, chain_module.DEFERRED_MAX]),
)
def test_fast_and_every_signature_agree_on_every_tampering(
    n: int, every: int, kind: str, k: int, window: int
) -> None:
    """Tampering after the checkpoints were signed (as an attacker must): the fast verdict
    is the every-signature verdict, word for word, with the same count before it."""
    entries = signed_chain(n)
    cps = [checkpoint(e, minutes=e.sequence) for e in entries if e.sequence % every == 0]
    bad_entries, bad_cps = tamper(kind, entries, cps, min(k, n))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chain_module, "DEFERRED_MAX", window)
        fast = verified(bad_entries, bad_cps)
    full = verified(bad_entries, bad_cps, every=True)
    assert verdict(fast) == verdict(full)
    assert fast.checkpoints_checked == full.checkpoints_checked


def test_only_checkpoints_and_entries_after_the_newest_are_signature_checked() -> None:
    entries = signed_chain(100)
    cps = [checkpoint(e) for e in entries if e.sequence % 10 == 0 and e.sequence <= 90]
    fast = verified(entries[:95], cps)
    assert fast.ok and fast.checked == 95 and fast.checkpoints_checked == 9
    assert fast.signatures_checked == 5  # entries 91..95
    full = verified(entries[:95], cps, every=True)
    assert full.ok and full.signatures_checked == 95


def test_waiting_entries_never_exceed_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_module, "DEFERRED_MAX", 4)
    entries = signed_chain(30)
    verifier = ChainVerifier(KEYS, [checkpoint(entries[-1])])
    for entry in entries:
        verifier.feed(entry)
        assert len(verifier._deferred) < 4
    assert verifier.result().ok


def test_a_checkpoint_vouches_for_a_garbled_signature_before_it() -> None:
    """The signature is not part of the hash: a checkpoint over the entry authenticates its
    contents, so fast verification accepts it; every-signature mode still names it."""
    entries = signed_chain(10)
    entries[3] = replace(entries[3], signature=OTHER.sign(b"x"))
    cps = [checkpoint(entries[-1])]
    assert verified(entries, cps).ok
    full = verified(entries, cps, every=True)
    assert (full.first_invalid_sequence, "not signed" in (full.reason or "")) == (4, True)


def resumed(
    entries: list[AuditEntry], cps: list[Checkpoint], at: int, anchor: AuditEntry | None
) -> ChainVerification:
    verifier = ChainVerifier(KEYS, cps)
    verifier.resume(at, anchor)
    for entry in entries:
        if entry.sequence > at:
            verifier.feed(entry)
    return verifier.result()


def test_resume_checks_only_what_followed_the_checkpoint() -> None:
    entries = signed_chain(20)
    cps = [checkpoint(entries[9]), checkpoint(entries[14])]
    result = resumed(entries, cps, 10, entries[9])
    assert result.ok and result.checked == 10 and result.head_hash == entries[-1].hash
    assert result.checkpoints_checked == 2
    # An edit before the checkpoint is not this verification's business ...
    edited = [replace(entries[2], reason="x"), *entries[3:]]
    assert resumed(edited, cps, 10, entries[9]).ok
    # ... one after it is.
    after = [*entries[:12], replace(entries[12], reason="x"), *entries[13:]]
    found = resumed(after, cps, 10, entries[9])
    assert (found.ok, found.first_invalid_sequence, found.checked) == (False, 13, 2)


def test_resume_refuses_a_changed_or_missing_anchor_and_a_bad_checkpoint() -> None:
    entries = signed_chain(12)
    cps = [checkpoint(entries[5])]
    edited = resumed(entries, cps, 6, replace(entries[5], reason="x"))
    assert (edited.first_invalid_sequence, "edited" in (edited.reason or "")) == (6, True)
    missing = resumed(entries, cps, 6, None)
    assert (missing.first_invalid_sequence, "missing" in (missing.reason or "")) == (6, True)
    rehashed = forged(entries, 6, reason="x")
    moved = resumed(entries, cps, 6, rehashed)
    assert moved.first_invalid_sequence == 6 and "differs from the checkpoint" in (
        moved.reason or ""
    )
    unsigned = [replace(cps[0], signature=OTHER.sign(b"x"))]
    bad = resumed(entries, unsigned, 6, entries[5])
    assert bad.first_invalid_sequence == 6 and "not validly signed" in (bad.reason or "")
    with pytest.raises(ValueError):
        resumed(entries, cps, 7, entries[6])


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entries.append(seal(numbered_draft(i), i, previous))
        previous = entries[-1].hash
    return entries


def verify(entries: list[AuditEntry]) -> tuple[bool, int | None]:
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    result = v.result()
    return result.ok, result.first_invalid_sequence


def test_a_clean_chain_verifies() -> None:
    entries = chain(5)
    assert verify(entries) == (True, None)
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    assert v.result().head_hash == entries[-1].hash


def test_an_edited_field_is_found() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], new_conference_id="0000001")
    assert verify(entries) == (False, 3)


def test_a_deleted_entry_is_named() -> None:
    entries = chain(5)
    del entries[1]
    assert verify(entries) == (False, 2)


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    entries = chain(5)
    edited = replace(entries[2], reason="rewritten")
    entries[2] = seal(
        replace(numbered_draft(3), reason="rewritten"), edited.sequence, edited.previous_hash
    )
    assert verify(entries) == (False, 4)


def test_empty_chain_is_ok() -> None:
    assert verify([]) == (True, None)

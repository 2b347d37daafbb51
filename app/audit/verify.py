"""Verifying an audit export file with no database: chain, sequence, signatures, checkpoints."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.checkpoint import Checkpoint
from app.domain.export import ExportFormatError, read_export
from app.domain.signing import SigningKeyError, key_id, load_public_pem, load_public_pems
from app.domain.verifier import ChainVerifier


@dataclass(slots=True)
class FileVerification:
    """The verdict on one export file."""

    ok: bool
    checked: int
    first_invalid_sequence: int | None
    reason: str | None
    checkpoints_checked: int
    partial: bool
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"warning: {w}" for w in self.warnings]
        scope = "filtered (partial) export" if self.partial else "full export"
        if self.ok:
            lines.append(
                f"OK: {self.checked} entries verified ({scope}), "
                f"{self.checkpoints_checked} checkpoint(s) agree"
            )
        else:
            lines.append(f"INVALID at sequence {self.first_invalid_sequence}: {self.reason}")
            lines.append(f"({self.checked} entries verified before it; {scope})")
        return "\n".join(lines)


def verify_export(
    lines: Iterable[str],
    pinned_key: Ed25519PublicKey | list[Ed25519PublicKey] | None = None,
    extra_checkpoints: list[Checkpoint] | None = None,
    *,
    every_signature: bool = False,
) -> FileVerification:
    """Check an export as `verifyAuditTrail` checks the database, and that it is complete.
    Entry signatures are checked where no checkpoint vouches for the entry, or for every
    entry with `every_signature`."""
    records = read_export(lines)
    kind, manifest = next(records, ("", None))
    if kind != "manifest" or not isinstance(manifest, dict):
        raise ExportFormatError("the file does not start with a confid export manifest")
    keys, warnings = _keys(manifest, pinned_key)
    partial = bool(manifest.get("partial"))
    read = _FileRead(list(extra_checkpoints or []))
    make = functools.partial(
        ChainVerifier,
        keys,
        read.checkpoints,
        partial=partial,
        signed_from=int(manifest.get("signedFromSequence") or 1),
        every_signature=every_signature,
    )
    for kind, value in records:
        read.take(kind, value, make)
    result = (read.verifier or make()).result()
    ok, first, reason = result.ok, result.first_invalid_sequence, result.reason
    if ok:
        missing = _incompleteness(manifest, read, result.checked, partial)
        if missing is not None:
            ok, first, reason = False, result.checked + 1, missing
    return FileVerification(
        ok=ok,
        checked=result.checked,
        first_invalid_sequence=first,
        reason=reason,
        checkpoints_checked=result.checkpoints_checked,
        partial=partial,
        manifest=manifest,
        warnings=warnings,
    )


def _keys(
    manifest: dict[str, Any], pinned_key: Ed25519PublicKey | list[Ed25519PublicKey] | None
) -> tuple[dict[str, Ed25519PublicKey] | None, list[str]]:
    """The keys to verify with (the pinned ones, else those the file names) and what the
    reader should know about that choice."""
    if pinned_key is not None:
        pinned = pinned_key if isinstance(pinned_key, list) else [pinned_key]
        keys = {key_id(k): k for k in pinned}
        if manifest.get("keyId") not in (None, *keys):
            return keys, ["the export names another signing key than the pinned one"]
        return keys, []
    if manifest.get("publicKeysPem") or manifest.get("publicKeyPem"):
        try:
            pems = manifest.get("publicKeysPem") or [manifest["publicKeyPem"]]
            embedded = [load_public_pem(str(p)) for p in pems]
        except SigningKeyError as exc:
            raise ExportFormatError(f"the manifest's public key is unusable: {exc}") from None
        return {key_id(k): k for k in embedded}, [
            "verified with the public key inside the file: this proves integrity, not origin; "
            "pin confid's key with --public-key for that"
        ]
    return None, ["the export is unsigned: only the hash chain can be checked"]


@dataclass(slots=True)
class _FileRead:
    """The records after the manifest, fed to the verifier as they stream by."""

    checkpoints: list[Checkpoint]
    verifier: ChainVerifier | None = None
    end: dict[str, Any] | None = None
    entries: int = 0

    def take(self, kind: str, value: Any, make: Callable[[], ChainVerifier]) -> None:
        if kind == "checkpoint":
            if self.verifier is not None:
                raise ExportFormatError("a checkpoint line comes after the entries")
            self.checkpoints.append(value)
        elif kind == "entry":
            if self.verifier is None:  # every checkpoint is in: the verifier can start
                self.verifier = make()
            number, entry, problem = value
            self.entries += 1
            if entry is None:
                self.verifier.feed_unreadable(
                    self.entries, problem or f"line {number} is unreadable"
                )
            else:
                self.verifier.feed(entry)
        elif kind == "end":
            self.end = value
        elif kind == "manifest":
            raise ExportFormatError("a second manifest line")


def _incompleteness(
    manifest: dict[str, Any], read: _FileRead, checked: int, partial: bool
) -> str | None:
    """Why a file whose entries all verified is still not the whole export, if it is not."""
    if read.end is None:
        return "the export is cut off (no end line)"
    if int(read.end.get("count", -1)) != read.entries:
        return (
            f"the end line counts {read.end.get('count')} entries but the file has {read.entries}"
        )
    if manifest.get("count") not in (None, read.entries):
        return f"the manifest promises {manifest['count']} entries but the file has {read.entries}"
    if not partial and (manifest.get("headSequence") or 0) > checked:
        return (
            f"entries after {checked} are missing (the manifest's head is "
            f"{manifest['headSequence']})"
        )
    return None


def load_checkpoints(lines: Iterable[str]) -> list[Checkpoint]:
    """Checkpoints kept from an earlier export (or any file of checkpoint lines)."""
    out: list[Checkpoint] = []
    for kind, value in read_export(lines):
        if kind == "checkpoint":
            out.append(value)
    return out


def load_pinned_key(text: str) -> list[Ed25519PublicKey]:
    """The key(s) an auditor pins: one PEM, or a bundle (current and previous keys)."""
    return load_public_pems(text)

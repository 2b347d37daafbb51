"""Verifying an audit export file with no database: chain, sequence, signatures, checkpoints,
and (format 4 on) the export's seal over what the file holds."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.checkpoint import Checkpoint
from app.domain.export import UNSEALED_FORMATS, ExportFormatError, read_export
from app.domain.export_seal import ExportTally, seal_problem
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
    sealed: bool = False  # a seal signed by a key verified with vouches for the file's end

    def render(self) -> str:
        lines = [f"warning: {w}" for w in self.warnings]
        scope = "filtered (partial) export" if self.partial else "full export"
        if self.ok:
            seal = ", the export's seal is valid" if self.sealed else ""
            lines.append(
                f"OK: {self.checked} entries verified ({scope}), "
                f"{self.checkpoints_checked} checkpoint(s) agree{seal}"
            )
        elif self.first_invalid_sequence is None:  # the file, not one entry, is at fault
            lines.append(f"INVALID: {self.reason}")
            lines.append(f"({self.checked} entries verified; {scope})")
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
    require_seal: bool = False,
) -> FileVerification:
    """Check an export as `verifyAuditTrail` checks the database, and that it is complete:
    its seal (format 4 on) signed and stating exactly what the file holds. Entry signatures
    are checked where no checkpoint vouches for the entry, or for every entry with
    `every_signature`. An older file, which has no seal, verifies with a warning that its
    end is not signed, or fails with `require_seal`."""
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
    unsealed = manifest.get("format") in UNSEALED_FORMATS
    if unsealed:
        warnings.append(_unsealed_warning(manifest, partial))
        if ok and require_seal:
            ok, first = False, None
            reason = f"the export has no seal ({manifest.get('format')}) and a seal is required"
    elif ok and read.end is not None:
        problem = seal_problem(read.end, manifest, read.tally, read.in_file, keys)
        if problem is not None:
            ok, first, reason = False, problem.sequence, problem.reason
    return FileVerification(
        ok=ok,
        checked=result.checked,
        first_invalid_sequence=first,
        reason=reason,
        checkpoints_checked=result.checkpoints_checked,
        partial=partial,
        manifest=manifest,
        warnings=warnings,
        sealed=ok and not unsealed and keys is not None,
    )


def _unsealed_warning(manifest: dict[str, Any], partial: bool) -> str:
    where = (
        "entries removed from anywhere in this filtered export"
        if partial
        else "entries removed from the end of the file after its newest checkpoint"
    )
    return (
        f"the end of this export is not signed (format {manifest.get('format')} has no "
        f"seal): {where}, with its counts edited to match, cannot be detected; a new export "
        "is sealed"
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
    in_file: int = 0  # checkpoint records in the file (not those kept from earlier ones)
    tally: ExportTally = field(default_factory=ExportTally)

    def take(self, kind: str, value: Any, make: Callable[[], ChainVerifier]) -> None:
        if kind == "checkpoint":
            if self.verifier is not None:
                raise ExportFormatError("a checkpoint line comes after the entries")
            self.checkpoints.append(value)
            self.in_file += 1
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
                self.tally.add(entry.sequence, entry.hash)
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

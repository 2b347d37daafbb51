"""The export seal: confid's signed statement of what an export file holds (format 4 on).

The manifest says, before the entries, what the export will hold (`ExportHeader`); the
server counts the entries as they go out (`ExportTally`) and, once the last one is
written, signs the header and the count of what was written together (`ExportStatement`,
with the audit signing key, as checkpoints are signed) into the file's `end` record. The
offline verifier recounts the file the same way and refuses it when the signature is
missing or wrong, or when the file does not hold what the statement says. So entries cut
from the end of a file — or from anywhere in a filtered one — are noticed even when the
unsigned manifest and end counts were edited to match. docs/export-format.md §2.7 and §4.3
specify it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.chain import GENESIS_HASH, PublicKeys
from app.domain.instants import iso_millis
from app.domain.signing import Signer, verify

SEAL_TYPE = "confid-audit-export-seal"


class ExportSealError(ValueError):
    """A seal that is not a statement confid writes (the message says why)."""


def canonical(value: Any) -> bytes:
    """The bytes a seal signature covers: JSON with sorted keys, no whitespace, UTF-8
    (the rules of the entries' canonical encoding)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """What an export states before its entries: the manifest's members that the seal
    signs again at the end."""

    format: str
    encoding: str  # jsonl | csv
    exported_at: datetime
    filter: Mapping[str, str]
    partial: bool
    count: int
    first_sequence: int | None
    last_sequence: int | None
    head_sequence: int
    head_hash: str
    checkpoints: int
    key_id: str | None
    signed_from_sequence: int

    def record(self) -> dict[str, Any]:
        """The members as the manifest (and the seal) write them."""
        return {
            "format": self.format,
            "encoding": self.encoding,
            "exportedAt": iso_millis(self.exported_at),
            "filter": dict(self.filter),
            "partial": self.partial,
            "count": self.count,
            "firstSequence": self.first_sequence,
            "lastSequence": self.last_sequence,
            "headSequence": self.head_sequence,
            "headHash": self.head_hash,
            "checkpoints": self.checkpoints,
            "keyId": self.key_id,
            "signedFromSequence": self.signed_from_sequence,
        }


#: The manifest members a seal repeats (and a verifier holds the manifest to).
SIGNED_MANIFEST_MEMBERS = (
    "format", "encoding", "exportedAt", "filter", "partial", "count", "firstSequence",
    "lastSequence", "headSequence", "headHash", "checkpoints", "keyId", "signedFromSequence",
)  # fmt: skip


class ExportTally:
    """What a file's entries add up to, counted as they pass (by the writer and, the same
    way, by the reader): how many, the first and last sequence, the last hash, and the
    digest of every entry's hash in file order."""

    __slots__ = ("_digest", "count", "first_sequence", "last_hash", "last_sequence")

    def __init__(self) -> None:
        self.count = 0
        self.first_sequence: int | None = None
        self.last_sequence: int | None = None
        self.last_hash: str | None = None
        self._digest = hashlib.sha256()

    def add(self, sequence: int, entry_hash: str) -> None:
        self.count += 1
        if self.first_sequence is None:
            self.first_sequence = sequence
        self.last_sequence = sequence
        self.last_hash = entry_hash
        self._digest.update(entry_hash.encode("utf-8") + b"\n")

    @property
    def entries_digest(self) -> str:
        """SHA-256 (hex) over each entry's `hash` followed by a line feed, in file order."""
        return self._digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ExportStatement:
    """confid's statement of what one export file holds: its header, and the last hash and
    digest of the entries that were actually written."""

    header: ExportHeader
    last_hash: str | None
    entries_digest: str

    def record(self) -> dict[str, Any]:
        """The `seal` object of the end record."""
        return {
            "type": SEAL_TYPE,
            **self.header.record(),
            "lastHash": self.last_hash,
            "entriesDigest": self.entries_digest,
        }

    def message(self) -> bytes:
        """The exact bytes the seal's signature covers."""
        return canonical(self.record())

    def sign(self, signer: Signer) -> str:
        """The seal's signature (base64 Ed25519, as checkpoints are signed)."""
        return signer.sign(self.message())

    @classmethod
    def from_record(cls, data: Any) -> ExportStatement:
        """The statement a `seal` object makes; ExportSealError unless it has exactly the
        members confid writes, each of its type (so that re-encoding it gives the bytes
        that were signed)."""
        if not isinstance(data, dict):
            raise ExportSealError("the seal is not a JSON object")
        expected = {"type", *SIGNED_MANIFEST_MEMBERS, "lastHash", "entriesDigest"}
        if set(data) != expected:
            odd = sorted(set(data) ^ expected)
            raise ExportSealError(f"the seal's members are not confid's ({', '.join(odd)})")
        if data["type"] != SEAL_TYPE:
            raise ExportSealError(f"the seal's type is not {SEAL_TYPE!r}")
        text = _typed(data, str, "format", "encoding", "headHash", "entriesDigest")
        maybe_text = _typed(data, (str, type(None)), "lastHash", "keyId")
        number = _typed(data, int, "count", "headSequence", "checkpoints", "signedFromSequence")
        maybe_number = _typed(data, (int, type(None)), "firstSequence", "lastSequence")
        _typed(data, bool, "partial")
        stated = data["filter"]
        if not isinstance(stated, dict) or not all(isinstance(v, str) for v in stated.values()):
            raise ExportSealError("the seal's filter is not an object of strings")
        try:
            exported_at = datetime.fromisoformat(str(data["exportedAt"]).replace("Z", "+00:00"))
        except ValueError:
            exported_at = None
        if exported_at is None or iso_millis(exported_at) != data["exportedAt"]:
            raise ExportSealError("the seal's exportedAt is not a time as confid writes it")
        header = ExportHeader(
            format=text["format"],
            encoding=text["encoding"],
            exported_at=exported_at,
            filter=dict(stated),
            partial=data["partial"],
            count=number["count"],
            first_sequence=maybe_number["firstSequence"],
            last_sequence=maybe_number["lastSequence"],
            head_sequence=number["headSequence"],
            head_hash=text["headHash"],
            checkpoints=number["checkpoints"],
            key_id=maybe_text["keyId"],
            signed_from_sequence=number["signedFromSequence"],
        )
        return cls(header, maybe_text["lastHash"], text["entriesDigest"])


def _typed(data: dict[str, Any], kind: type | tuple[type, ...], *names: str) -> dict[str, Any]:
    for name in names:
        value = data[name]
        # A JSON true is not a count, nor a count a flag.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ExportSealError(f"the seal's {name} has the wrong type")
    return {name: data[name] for name in names}


def end_record(count: int, statement: ExportStatement, signature: str | None) -> dict[str, Any]:
    """The `end` record of a sealed export (without its `type`)."""
    return {"count": count, "seal": statement.record(), "signature": signature}


# --- checking a sealed file ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealProblem:
    """Why a file does not match its seal; `sequence` where one can be named."""

    sequence: int | None
    reason: str


def seal_problem(
    end: Mapping[str, Any],
    manifest: Mapping[str, Any],
    found: ExportTally,
    checkpoints: int,
    keys: PublicKeys | None,
) -> SealProblem | None:
    """Hold a sealed file to its seal: signed by one of `keys` (when the verifier has any),
    and stating exactly the entries (`found`), the number of checkpoint records and the
    manifest the file holds. None when it does."""
    if end.get("seal") is None:
        return SealProblem(
            None,
            "the export has no seal: its end record does not carry confid's signed statement "
            "of what the file holds (it was removed or replaced; entries may have been cut)",
        )
    try:
        statement = ExportStatement.from_record(end["seal"])
    except ExportSealError as exc:
        return SealProblem(None, f"the export's seal is malformed: {exc}")
    seal = "the export's seal"
    if keys is not None:
        unsigned = _unsigned(statement, end.get("signature"), keys)
        if unsigned is not None:
            return SealProblem(None, unsigned)
        seal = "the export's seal (signed by confid)"
    return _contents_problem(statement, found, checkpoints, seal) or _manifest_problem(
        statement, manifest, seal
    )


def _unsigned(statement: ExportStatement, signature: Any, keys: PublicKeys) -> str | None:
    if not isinstance(signature, str) or not signature:
        return (
            "the export's seal is not signed (its signature was removed): nothing vouches "
            "for the end of the file"
        )
    key_id = statement.header.key_id
    public = keys.get(key_id or "")
    if public is None:
        return (
            f"the export's seal is not validly signed by confid's key (it names key "
            f"{key_id}, which is not one of the keys verified with)"
        )
    if not verify(public, signature, statement.message()):
        return (
            "the export's seal is not validly signed by confid's key (the seal was altered "
            "or forged)"
        )
    return None


def _contents_problem(
    statement: ExportStatement, found: ExportTally, checkpoints: int, seal: str
) -> SealProblem | None:
    header = statement.header
    last, stated_last = found.last_sequence or 0, header.last_sequence or 0
    if last < stated_last:
        if header.partial:
            return SealProblem(
                stated_last,
                f"entries are missing from the end of the file: {seal} says it ends at "
                f"sequence {stated_last} with {header.count} entries, the file ends at "
                f"{last or 'no entry'} with {found.count}",
            )
        missing = (
            f"entry {stated_last} is missing"
            if last + 1 == stated_last
            else f"entries {last + 1} to {stated_last} are missing"
        )
        return SealProblem(
            last + 1,
            f"{missing}: {seal} says the file ends at sequence {stated_last} with "
            f"{header.count} entries",
        )
    if found.count != header.count:
        return SealProblem(
            None,
            f"the file has {found.count} entries but {seal} says {header.count} (entries "
            "were removed or added)",
        )
    if last != stated_last or found.first_sequence != header.first_sequence:
        return SealProblem(
            None,
            f"the file holds sequences {found.first_sequence} to {found.last_sequence} but "
            f"{seal} says {header.first_sequence} to {header.last_sequence}",
        )
    if found.last_hash != statement.last_hash:
        return SealProblem(
            found.last_sequence,
            f"entry {found.last_sequence} is not the entry confid exported last: {seal} "
            "names another hash",
        )
    if found.entries_digest != statement.entries_digest:
        return SealProblem(
            None,
            "the entries in the file are not those confid exported: their hashes do not "
            f"match the entriesDigest of {seal}",
        )
    if checkpoints != header.checkpoints:
        return SealProblem(
            None,
            f"the file has {checkpoints} checkpoint records but {seal} says "
            f"{header.checkpoints} (checkpoints were removed or added)",
        )
    head = (header.head_sequence, header.head_hash)
    if not header.partial and (stated_last, statement.last_hash or GENESIS_HASH) != head:
        return SealProblem(
            None,
            f"{seal} says the trail's head was sequence {header.head_sequence}, but this "
            f"full export ends at {stated_last}: it is not the whole trail",
        )
    return None


def _manifest_problem(
    statement: ExportStatement, manifest: Mapping[str, Any], seal: str
) -> SealProblem | None:
    sealed = statement.record()
    for name in SIGNED_MANIFEST_MEMBERS:
        if canonical(manifest.get(name)) != canonical(sealed[name]):
            shown, stated = (
                json.dumps(v, ensure_ascii=False) for v in (manifest.get(name), sealed[name])
            )
            return SealProblem(
                None,
                f"the manifest's {name} is {shown} but {seal} says {stated}: the manifest "
                "was edited",
            )
    return None

"""The export seal (app.domain.export_seal): the statement's canonical bytes and strict
reading, the tally of a file's entries, and each way a file can disagree with its seal."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.chain import GENESIS_HASH
from app.domain.export_seal import (
    SEAL_TYPE,
    SIGNED_MANIFEST_MEMBERS,
    ExportHeader,
    ExportSealError,
    ExportStatement,
    ExportTally,
    end_record,
    seal_problem,
)
from app.domain.signing import Signer, verify

SIGNER = Signer.generate()
HASHES = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(1, 6)]


def header(**changes: Any) -> ExportHeader:
    """A full export of a five-entry trail, two checkpoints."""
    base = ExportHeader(
        format="confid-audit-export/4", encoding="jsonl",
        exported_at=datetime(2026, 12, 1, 22, 39, 14, 119000, tzinfo=UTC),
        filter={}, partial=False, count=5, first_sequence=1, last_sequence=5,
        head_sequence=5, head_hash=HASHES[-1], checkpoints=2, key_id=SIGNER.key_id,
        signed_from_sequence=1,
    )  # fmt: skip
    return replace(base, **changes)


def tally(sequences: list[int]) -> ExportTally:
    counted = ExportTally()
    for sequence in sequences:
        counted.add(sequence, HASHES[sequence - 1])
    return counted


def sealed(head: ExportHeader, sequences: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and end record the server writes for these entries."""
    written = tally(sequences)
    statement = ExportStatement(head, written.last_hash, written.entries_digest)
    return head.record(), end_record(written.count, statement, statement.sign(SIGNER))


KEYS = {SIGNER.key_id: SIGNER.public}


def test_the_statement_is_canonical_json_and_reads_back_exactly() -> None:
    written = tally([1, 2, 3, 4, 5])
    statement = ExportStatement(header(), written.last_hash, written.entries_digest)
    record = statement.record()
    assert record["type"] == SEAL_TYPE and record["exportedAt"] == "2026-12-01T22:39:14.119Z"
    assert set(record) == {"type", *SIGNED_MANIFEST_MEMBERS, "lastHash", "entriesDigest"}
    message = statement.message()
    assert message == json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    assert message.startswith(b'{"checkpoints":2,"count":5,"encoding":"jsonl","entriesDigest"')
    assert ExportStatement.from_record(json.loads(json.dumps(record))) == statement
    assert verify(SIGNER.public, statement.sign(SIGNER), message)


def test_the_entries_digest_is_sha256_of_each_hash_and_a_line_feed() -> None:
    written = tally([2, 4])
    expected = hashlib.sha256(f"{HASHES[1]}\n{HASHES[3]}\n".encode()).hexdigest()
    assert written.entries_digest == expected
    assert (written.count, written.first_sequence, written.last_sequence) == (2, 2, 4)
    assert ExportTally().entries_digest == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("edit", "words"),
    [({"extra": 1}, "members are not confid's (extra)"),
     ({"type": "confid-audit-checkpoint"}, "type is not"),
     ({"count": "5"}, "count has the wrong type"),
     ({"count": True}, "count has the wrong type"),
     ({"partial": 0}, "partial has the wrong type"),
     ({"lastSequence": 5.0}, "lastSequence has the wrong type"),
     ({"filter": {"actor": 7}}, "filter is not an object of strings"),
     ({"exportedAt": "2026-12-01T22:39:14.119+00:00"}, "exportedAt is not a time"),
     ({"exportedAt": "yesterday"}, "exportedAt is not a time")],
)  # fmt: skip
def test_a_seal_is_read_strictly(edit: dict[str, Any], words: str) -> None:
    """Only what re-encodes to the signed bytes is a statement."""
    written = tally([1, 2, 3, 4, 5])
    record = ExportStatement(header(), written.last_hash, written.entries_digest).record()
    with pytest.raises(ExportSealError, match=re.escape(words)):
        ExportStatement.from_record({**record, **edit})
    missing = dict(record)
    del missing["entriesDigest"]
    with pytest.raises(ExportSealError, match="entriesDigest"):
        ExportStatement.from_record(missing)


def test_a_file_that_holds_what_its_seal_says_passes() -> None:
    manifest, end = sealed(header(), [1, 2, 3, 4, 5])
    assert seal_problem(end, manifest, tally([1, 2, 3, 4, 5]), 2, KEYS) is None
    partial = header(partial=True, filter={"actor": "a"}, count=2, first_sequence=2,
                     last_sequence=4)  # fmt: skip
    manifest, end = sealed(partial, [2, 4])
    assert seal_problem(end, manifest, tally([2, 4]), 2, KEYS) is None
    empty = header(count=0, first_sequence=None, last_sequence=None, head_sequence=0,
                   head_hash=GENESIS_HASH, checkpoints=1)  # fmt: skip
    manifest, end = sealed(empty, [])
    assert seal_problem(end, manifest, tally([]), 1, KEYS) is None


def _problem(
    found: ExportTally, head: ExportHeader | None = None, checkpoints: int = 2
) -> tuple[int | None, str]:
    """What the verifier says of a file holding `found` whose seal states `head` over the
    sequences `head` names (all five by default)."""
    head = head or header()
    stated = ExportTally()
    if head.first_sequence is not None and head.last_sequence is not None:
        for sequence in range(head.first_sequence, head.last_sequence + 1):
            if head.partial and sequence not in (head.first_sequence, head.last_sequence):
                continue  # a filtered export of its two ends
            stated.add(sequence, HASHES[sequence - 1])
    statement = ExportStatement(head, stated.last_hash, stated.entries_digest)
    end = end_record(stated.count, statement, statement.sign(SIGNER))
    problem = seal_problem(end, head.record(), found, checkpoints, KEYS)
    assert problem is not None
    return problem.sequence, problem.reason


def test_each_way_a_file_can_differ_from_its_seal() -> None:
    cut = "entries 4 to 5 are missing: the export's seal (signed by confid) says the file "
    assert _problem(tally([1, 2, 3])) == (4, cut + "ends at sequence 5 with 5 entries")
    assert _problem(tally([1, 2, 4, 5]))[1].startswith("the file has 4 entries but the export")
    assert _problem(tally([2, 3, 4, 5, 5]))[1].startswith("the file holds sequences 2 to 5")
    assert "checkpoint records" in _problem(tally([1, 2, 3, 4, 5]), checkpoints=1)[1]
    partial = header(partial=True, count=2, first_sequence=2, last_sequence=4)
    sequence, reason = _problem(tally([2]), partial)
    assert sequence == 4 and reason.startswith("entries are missing from the end of the file")
    last = ExportTally()
    last.add(2, HASHES[1])
    last.add(4, HASHES[0])  # another entry's contents at sequence 4
    assert _problem(last, partial) == (
        4, "entry 4 is not the entry confid exported last: the export's seal (signed by "
        "confid) names another hash")  # fmt: skip
    # The same count and ends, another entry between them: only the digest tells.
    middle = ExportTally()
    for sequence, digest in ((1, HASHES[0]), (2, HASHES[4]), (3, HASHES[2])):
        middle.add(sequence, digest)
    sequence, reason = _problem(middle, header(count=3, last_sequence=3, head_sequence=3,
                                               head_hash=HASHES[2]))  # fmt: skip
    assert sequence is None and "do not match the entriesDigest" in reason


def test_a_full_export_must_end_at_the_head_it_states() -> None:
    manifest, end = sealed(header(head_sequence=6), [1, 2, 3, 4, 5])
    problem = seal_problem(end, manifest, tally([1, 2, 3, 4, 5]), 2, KEYS)
    assert problem is not None and "it is not the whole trail" in problem.reason


def test_the_signature_is_checked_only_with_keys() -> None:
    manifest, end = sealed(header(), [1, 2, 3, 4, 5])
    end["seal"]["checkpoints"] = manifest["checkpoints"] = 1
    problem = seal_problem(end, manifest, tally([1, 2, 3, 4, 5]), 1, KEYS)
    assert problem is not None and "not validly signed" in problem.reason
    # Without keys nothing can be said about who wrote it; the statement still counts.
    assert seal_problem(end, manifest, tally([1, 2, 3, 4, 5]), 1, None) is None
    assert seal_problem(end, manifest, tally([1, 2, 3]), 1, None) is not None

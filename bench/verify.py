"""Full verification of the audit trail: entries/s in memory and of the offline verifier.

    python -m bench.verify [--sizes 100000,1000000] [--checkpoint-every 1000]  (prints JSON)

A signed trail of N entries is sealed in memory with confid's own `seal` (canonical
encoding, SHA-256, Ed25519), with a signed checkpoint every `--checkpoint-every` entries
(as the hourly checkpoints leave them; the newest half a period before the head). Then:

* `in_memory_per_s`: `ChainVerifier` with the public key and the checkpoints, fed the
  entries already in memory: what `verifyAuditTrail` does once the store has answered.
* `chain_only_per_s`: the same entries without keys (canonical encoding, SHA-256 and links
  only): the floor a verification of this trail cannot go below in confid's code.
* `decoded_per_s`: the same, fed from stored documents through the codec (`verify` decodes
  every entry it reads), measured on the first 100,000 entries.
* `offline_per_s`: `verify_export` on a JSON Lines export file of the whole trail, read
  from disk: parsing, decoding and verifying (what `confid audit verify FILE` runs).

Every pass asserts the verdict (ok, every entry checked), so a faster wrong answer cannot
pass for a speed-up. Only APIs that existed before fast verification are used, so the same
module measures an older checkout (run it with that checkout first on `sys.path`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.audit.verify import verify_export
from app.domain.chain import GENESIS_HASH, seal
from app.domain.checkpoint import Checkpoint, checkpoint_message
from app.domain.entry import AuditEntry
from app.domain.export import FORMAT, checkpoint_record, entry_record, json_line
from app.domain.signing import Signer, public_pem
from app.domain.verifier import ChainVerifier
from app.store import codec
from bench.dataset import _history_draft

USER_IDS = [f"u{n:05d}" for n in range(1, 1001)]
DECODED_MAX = 100_000
TARGET_PER_S = 100_000


def signed_trail(
    count: int, checkpoint_every: int, signer: Signer
) -> tuple[list[AuditEntry], list[Checkpoint]]:
    """`count` sealed entries and the checkpoints signed along the way."""
    rng = random.Random(20261130)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entries: list[AuditEntry] = []
    checkpoints: list[Checkpoint] = []
    previous = GENESIS_HASH
    offset = checkpoint_every // 2  # the head lies half a period after the newest checkpoint
    for number in range(count):
        at = start + timedelta(seconds=number)
        draft = _history_draft(rng, number, rng.choice(USER_IDS), at)
        entry = seal(draft, number + 1, previous, signer)
        entries.append(entry)
        previous = entry.hash
        if (number + 1 + offset) % checkpoint_every == 0 and number + 1 < count:
            signed_at = at + timedelta(milliseconds=1)
            checkpoints.append(
                Checkpoint(
                    sequence=entry.sequence,
                    hash=entry.hash,
                    signed_at=signed_at,
                    key_id=signer.key_id,
                    signature=signer.sign(
                        checkpoint_message(entry.sequence, entry.hash, signed_at)
                    ),
                )
            )
    return entries, checkpoints


def _verified(verifier: ChainVerifier, count: int) -> None:
    result = verifier.result()
    assert result.ok and result.checked == count, result


def in_memory(entries: list[AuditEntry], checkpoints: list[Checkpoint], signer: Signer) -> float:
    keys = {signer.key_id: signer.public}
    began = time.perf_counter()
    verifier = ChainVerifier(keys, checkpoints)
    for entry in entries:
        verifier.feed(entry)
    elapsed = time.perf_counter() - began
    _verified(verifier, len(entries))
    return elapsed


def chain_only(entries: list[AuditEntry]) -> float:
    """The same entries without keys: encoding, SHA-256 and links only (the floor)."""
    began = time.perf_counter()
    verifier = ChainVerifier()
    for entry in entries:
        verifier.feed(entry)
    elapsed = time.perf_counter() - began
    _verified(verifier, len(entries))
    return elapsed


def decoded(entries: list[AuditEntry], checkpoints: list[Checkpoint], signer: Signer) -> float:
    keys = {signer.key_id: signer.public}
    docs = [codec.audit_doc(e) for e in entries]
    covered = [cp for cp in checkpoints if cp.sequence <= len(docs)]
    began = time.perf_counter()
    verifier = ChainVerifier(keys, covered)
    for doc in docs:
        verifier.feed(codec.audit_from(doc, strict=True))
    elapsed = time.perf_counter() - began
    _verified(verifier, len(docs))
    return elapsed


def _export_lines(
    entries: list[AuditEntry], checkpoints: list[Checkpoint], signer: Signer
) -> Iterator[str]:
    head = entries[-1]
    pem = public_pem(signer.public)
    header = {
        "format": FORMAT,
        "encoding": "jsonl",
        "exportedAt": "2027-01-01T00:00:00.000Z",
        "filter": {},
        "partial": False,
        "count": len(entries),
        "firstSequence": 1,
        "lastSequence": head.sequence,
        "headSequence": head.sequence,
        "headHash": head.hash,
        "checkpoints": len(checkpoints),
        "keyId": signer.key_id,
        "signedFromSequence": 1,
    }
    yield json_line("manifest", {**header, "publicKeyPem": pem, "publicKeysPem": [pem]})
    for cp in checkpoints:
        yield json_line("checkpoint", checkpoint_record(cp))
    for entry in entries:
        yield json_line("entry", entry_record(entry))
    yield json_line("end", _end(header, entries, signer))


def _end(header: dict[str, Any], entries: list[AuditEntry], signer: Signer) -> dict[str, Any]:
    """The end record; from export format 4 on, sealed as confid seals it."""
    try:
        from app.domain.export_seal import ExportStatement, ExportTally, end_record
    except ImportError:  # a checkout from before the export seal
        return {"count": len(entries)}
    written = ExportTally()
    for entry in entries:
        written.add(entry.sequence, entry.hash)
    record = {"type": "confid-audit-export-seal", **header, "lastHash": written.last_hash,
              "entriesDigest": written.entries_digest}  # fmt: skip
    statement = ExportStatement.from_record(record)
    return end_record(len(entries), statement, statement.sign(signer))


def offline(
    entries: list[AuditEntry], checkpoints: list[Checkpoint], signer: Signer, folder: Path
) -> tuple[float, int]:
    path = folder / "trail.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(_export_lines(entries, checkpoints, signer))
    began = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        result = verify_export(handle, signer.public)
    elapsed = time.perf_counter() - began
    assert result.ok and result.checked == len(entries), result.render()
    size = path.stat().st_size
    path.unlink()
    return elapsed, size


def measure(count: int, checkpoint_every: int, folder: Path) -> dict[str, Any]:
    signer = Signer.generate()
    began = time.perf_counter()
    entries, checkpoints = signed_trail(count, checkpoint_every, signer)
    sealed = time.perf_counter() - began
    memory = min(in_memory(entries, checkpoints, signer) for _ in range(2))
    floor = min(chain_only(entries) for _ in range(2))
    sample = entries[: min(count, DECODED_MAX)]
    decode = decoded(sample, checkpoints, signer)
    off, size = offline(entries, checkpoints, signer, folder)
    return {
        "entries": count,
        "checkpoints": len(checkpoints),
        "seal_seconds": round(sealed, 1),
        "in_memory_seconds": round(memory, 2),
        "in_memory_per_s": round(count / memory),
        "chain_only_per_s": round(count / floor),
        "decoded_entries": len(sample),
        "decoded_per_s": round(len(sample) / decode),
        "offline_seconds": round(off, 2),
        "offline_per_s": round(count / off),
        "offline_file_mib": round(size / 2**20, 1),
        "target_per_s": TARGET_PER_S,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.verify")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="confid-verify-") as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            print(f"verification bench: {size:,} entries ...", file=sys.stderr, flush=True)
            rows.append(measure(size, args.checkpoint_every, Path(tmp)))
    print(json.dumps({"checkpoint_every": args.checkpoint_every, "verification": rows}))


if __name__ == "__main__":
    main()

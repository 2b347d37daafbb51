"""Audit-chain costs: the chain check in memory (entries/s) and `verify`'s peak memory.

    python -m bench.chain [--entries N] [--sizes 10000,40000]   (prints JSON)

* Throughput: entries already in memory, fed to `ChainVerifier` without keys (canonical
  encoding + SHA-256 + link checks: the issue's target) and with the public key (plus the
  Ed25519 signature check that `verify` now does), the parts of it (encoding alone,
  encoding + hash), and the decode from stored documents that `verify` also pays per
  entry. Best of three passes.
* Memory: `AuditService.verify()` over an embedded store holding 10k and 40k entries, as
  the growth of peak RSS during the call (Linux VmHWM after resetting it with
  `clear_refs`), each in a fresh process, next to the paged reads alone
  (`AuditRepository.ascending()`: store pages and decoding, no chain check), so the
  difference is the chain check's own memory. Note that mongomock copies every document a
  query matches before it applies `limit`, so a sort-and-limit over the whole trail costs
  memory in proportion to the trail on the embedded store (not on MongoDB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mongomock_motor import AsyncMongoMockClient

from app.domain.chain import entry_hash
from app.domain.encoding import canonical_bytes
from app.domain.entry import AuditEntry
from app.domain.signing import Signer
from app.domain.verifier import ChainVerifier
from app.settings import Settings
from app.store import codec
from app.store.audit import AuditRepository
from app.store.database import AUDIT_EVENTS, Database
from app.wiring import Parts, build_services
from bench.dataset import append_history

USER_IDS = [f"u{n:05d}" for n in range(1, 1001)]


def _best(seconds: Callable[[], float], passes: int = 3) -> float:
    return min(seconds() for _ in range(passes))


async def _filled_database(count: int, signer: Signer) -> Database:
    database: Database = AsyncMongoMockClient()["chain"]
    await append_history(database, USER_IDS, count, signer)
    return database


async def throughput(count: int) -> dict[str, Any]:
    """Entries/s of the in-memory chain check and its parts."""
    signer = Signer.generate()
    keys = {signer.key_id: signer.public}
    database = await _filled_database(count, signer)
    docs = await database.get_collection(AUDIT_EVENTS).find({}).sort("_id", 1).to_list(None)
    entries: list[AuditEntry] = [codec.audit_from(d) for d in docs]

    def verify() -> float:
        began = time.perf_counter()
        verifier = ChainVerifier()
        for entry in entries:
            verifier.feed(entry)
        elapsed = time.perf_counter() - began
        assert verifier.result().ok and verifier.result().checked == count
        return elapsed

    def verify_signed() -> float:
        began = time.perf_counter()
        verifier = ChainVerifier(keys)
        for entry in entries:
            verifier.feed(entry)
        elapsed = time.perf_counter() - began
        assert verifier.result().ok and verifier.result().checked == count
        return elapsed

    def encode() -> float:
        began = time.perf_counter()
        for entry in entries:
            canonical_bytes(entry)
        return time.perf_counter() - began

    def hashing() -> float:
        began = time.perf_counter()
        for entry in entries:
            entry_hash(entry)
        return time.perf_counter() - began

    def decode_and_verify() -> float:
        began = time.perf_counter()
        verifier = ChainVerifier(keys)
        for doc in docs:
            verifier.feed(codec.audit_from(doc))
        elapsed = time.perf_counter() - began
        assert verifier.result().ok
        return elapsed

    return {
        "entries": count,
        "chain_check_per_s": round(count / _best(verify)),
        "chain_check_with_signatures_per_s": round(count / _best(verify_signed, 1)),
        "canonical_encoding_per_s": round(count / _best(encode)),
        "encoding_plus_sha256_per_s": round(count / _best(hashing)),
        "decode_plus_signed_check_per_s": round(count / _best(decode_and_verify, 1)),
        "target_per_s": 100_000,
    }


async def _paged_reads(database: Database) -> int:
    """The reads alone: `AuditRepository.ascending()` (store pages + decoding), no check."""
    seen = 0
    async for _ in AuditRepository(database).ascending():
        seen += 1
    return seen


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux `clear_refs` 5); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def one_memory(count: int, mode: str) -> dict[str, Any]:
    """In a fresh process: time and peak RSS growth of one `verify` (or floor) pass."""
    signer = Signer.generate()
    database = await _filled_database(count, signer)
    services = build_services(database, Settings(seed_demo=False), Parts(signer=signer))
    gc.collect()
    before = _status_kib("VmRSS")
    exact = _reset_peak()
    began = time.perf_counter()
    if mode == "verify":
        result = await services.audit.verify()
        assert result.ok and result.checked == count, result
    else:
        await _paged_reads(database)
    seconds = time.perf_counter() - began
    peak = _status_kib("VmHWM")
    return {
        "entries": count,
        "mode": mode,
        "seconds": round(seconds, 2),
        "rss_before_mib": round(before / 1024, 1),
        "peak_growth_mib": round((peak - before) / 1024, 1) if exact else None,
    }


def verify_memory(sizes: list[int], floor: bool) -> list[dict[str, Any]]:
    """`verify` (and the store floor) at each size, each in its own fresh process."""
    rows = []
    for size in sizes:
        row: dict[str, Any] = {"entries": size}
        for mode in ("verify", "floor") if floor else ("verify",):
            done = subprocess.run(
                [sys.executable, "-m", "bench.chain", "--one", str(size), mode],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            one = json.loads(done.stdout)
            row[f"{mode}_seconds"] = one["seconds"]
            row[f"{mode}_peak_growth_mib"] = one["peak_growth_mib"]
        if floor and row["verify_peak_growth_mib"] is not None:
            share = row["verify_peak_growth_mib"] - row["floor_peak_growth_mib"]
            row["confid_share_mib"] = round(share, 1)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.chain")
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--sizes", default="10000,40000")
    parser.add_argument("--no-floor", action="store_true", help="skip the store-floor passes")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_memory(int(args.one[0]), args.one[1]))))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    result = {
        "throughput": asyncio.run(throughput(args.entries)),
        "verify_memory": verify_memory(sizes, floor=not args.no_floor),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

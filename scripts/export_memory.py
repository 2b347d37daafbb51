"""Peak memory of a full audit export at two trail sizes (what `scripts/export-memory` runs).

The trail is built directly in an embedded store (sealed and signed like real entries, but
inserted in bulk without secondary indexes, which mongomock would check one by one), then
exported through the real HTTP endpoint's line generator and verified offline, each under
tracemalloc. Prints the peaks; the export should not grow with the trail.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from mongomock_motor import AsyncMongoMockClient

from app.api.export import AuditExport, manifest
from app.audit.verify import verify_export
from app.domain.chain import GENESIS_HASH, seal
from app.domain.entry import AuditDraft
from app.domain.models import SYSTEM_META, AuditAction, AuditOutcome
from app.domain.reads import AuditFilter
from app.domain.signing import Signer, public_pem
from app.services.tokens import TokenRegistry
from app.settings import Settings
from app.store import codec
from app.wiring import Parts, build_services


async def build_trail(database: object, signer: Signer, size: int) -> None:
    events = database.get_collection("audit_events")  # type: ignore[attr-defined]
    previous = GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    for sequence in range(1, size + 1):
        entry = seal(
            AuditDraft(
                occurred_at=start + timedelta(seconds=sequence),
                action=AuditAction.RESET,
                outcome=AuditOutcome.SUCCESS,
                error_codes=(),
                user_id=f"u{sequence % 1000:05d}",
                bridge_id="default",
                previous_conference_id=f"{(sequence * 7919) % 10**7:07d}",
                new_conference_id=f"{(sequence * 104729) % 10**7:07d}",
                meta=SYSTEM_META,
                reason="bench",
                recipients=(),
                to_non_primary=False,
                operation_id=f"op_{sequence}",
            ),
            sequence,
            previous,
            signer,
        )
        previous = entry.hash
        batch.append(codec.audit_doc(entry))
        if len(batch) == 5000:
            await events.insert_many(batch)
            batch = []
    if batch:
        await events.insert_many(batch)


async def measure(size: int) -> tuple[float, float, float, float]:
    signer = Signer.generate()
    database = AsyncMongoMockClient()["export_memory"]
    await build_trail(database, signer, size)
    services = build_services(database, Settings(seed_demo=False), Parts(signer=signer))
    exporter = AuditExport(services, TokenRegistry({}))

    tracemalloc.start()
    began = time.perf_counter()
    plan = await services.audit.plan_export(AuditFilter())
    header = services.audit.export_header(plan, "jsonl")
    head = manifest(header, public_pem(signer.public))
    written = 0
    async for line in exporter._lines(plan, header, head):  # streamed and dropped, as sent
        written += len(line)
    export_seconds = time.perf_counter() - began
    _, export_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Offline verification, streamed from a file as `scripts/audit-verify` reads it.
    path = f"/tmp/confid-export-{size}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        async for line in exporter._lines(plan, header, head):
            out.write(line)
    tracemalloc.start()
    began = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        result = verify_export(handle)
    verify_seconds = time.perf_counter() - began
    _, verify_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.ok, result.render()
    return export_peak / 2**20, export_seconds, verify_peak / 2**20, verify_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 40_000])
    args = parser.parse_args()
    print(f"{'entries':>8} {'export peak MiB':>16} {'export s':>9} {'verify peak MiB':>16} "
          f"{'verify s':>9}")  # fmt: skip
    for size in args.sizes:
        export_peak, export_s, verify_peak, verify_s = asyncio.run(measure(size))
        print(
            f"{size:>8} {export_peak:>16.2f} {export_s:>9.1f} {verify_peak:>16.2f} {verify_s:>9.1f}"
        )


if __name__ == "__main__":
    main()

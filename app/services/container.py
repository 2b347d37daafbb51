"""`Services`: everything the API layer may call, and what a process does when it starts.

The services are built and wired together in `app.wiring`, never here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.services.activity import ActivityService
from app.services.audit import AuditService
from app.services.bulk_resets import BulkResetService
from app.services.changes import ChangeService
from app.services.delivery import DeliveryWorker
from app.services.directory import DirectoryService
from app.services.live import LiveFeeds
from app.services.recovery import RecoveryService
from app.services.resend import ResendService
from app.services.seed import DemoSeed
from app.store.database import Database, ping
from app.store.indexes import ensure_indexes

log = logging.getLogger("confid")


@dataclass(slots=True)
class Services:
    """Everything the API layer may call."""

    database: Database
    directory: DirectoryService
    changes: ChangeService
    audit: AuditService
    recovery: RecoveryService
    delivery: DeliveryWorker
    resend: ResendService
    bulk: BulkResetService
    seed: DemoSeed | None  # None: no demo seeding at start-up
    embedded: bool
    activity: ActivityService
    live: LiveFeeds

    async def start(self) -> None:
        """Indexes, recovery of what a dead process left, then the demo seed if asked."""
        await ensure_indexes(self.database)
        if self.embedded:
            log.info(
                "audit_events $jsonSchema validator not applied: the embedded store has no "
                "validators (scripts/mongo-provision applies it on MongoDB)"
            )
        await self.recovery.sweep()
        if self.seed is not None:
            await self.seed.run()
        await self.audit.checkpoints.create()  # where the trail stood when this process began

    async def ready(self) -> bool:
        """True when the database answers."""
        try:
            await ping(self.database)
        except Exception:
            return False
        return True

"""The gauges read from the database on scrape: outbox backlog, audit head, checkpoint age.

A scrape first awaits `refresh`, which reads the database only when the last reading is
older than `ttl` seconds (concurrent scrapes share one read); `collect` then reports the
cached reading and never touches the database. A failed read is logged, the gauges are
left out (stale figures would mislead) and `confid_vitals_up` is 0.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from app.services.vitals import VitalSigns

log = logging.getLogger("confid.telemetry")


class VitalsCollector:
    """A Prometheus collector over `VitalSigns`, cached for `ttl` seconds."""

    def __init__(
        self,
        read: Callable[[], Awaitable[VitalSigns]],
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._signs: VitalSigns | None = None
        self._read_at: float | None = None
        self.reads = 0  # how many times the database was read (tests assert the cache)

    def _fresh(self) -> bool:
        return self._read_at is not None and self._monotonic() - self._read_at < self._ttl

    async def refresh(self) -> None:
        """Read the database unless the last reading is still fresh."""
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():  # another scrape read it while this one waited
                return
            self.reads += 1
            try:
                self._signs = await self._read()
            except Exception as exc:
                log.warning("metrics: reading the outbox and audit gauges failed: %r", exc)
                self._signs = None
            self._read_at = self._monotonic()

    def forget(self) -> None:
        """Drop the cached reading: the next scrape reads the database again."""
        self._read_at = None

    def describe(self) -> Iterable[Metric]:
        """The families without samples (so registering never reads anything)."""
        return self._families(None, read=False)

    def collect(self) -> Iterable[Metric]:
        """The last reading (nothing before the first `refresh`)."""
        return self._families(self._signs, read=self._read_at is not None)

    def _families(self, signs: VitalSigns | None, *, read: bool) -> list[Metric]:
        up = GaugeMetricFamily(
            "confid_vitals_up",
            "1 when the last read of the database-backed gauges (confid_outbox_*, "
            "confid_audit_*) succeeded, else 0 and those gauges are absent.",
        )
        backlog = GaugeMetricFamily(
            "confid_outbox_backlog",
            "Emails waiting to be handed over, by status (PENDING, RETRYING).",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "confid_outbox_oldest_age_seconds",
            "Age of the oldest email waiting in each status (0 when none waits).",
            labels=["status"],
        )
        head = GaugeMetricFamily(
            "confid_audit_head_sequence", "Sequence number of the newest audit entry."
        )
        checkpoint = GaugeMetricFamily(
            "confid_audit_checkpoint_sequence",
            "Sequence number the newest signed checkpoint covers (absent: none signed).",
        )
        age = GaugeMetricFamily(
            "confid_audit_checkpoint_age_seconds",
            "Time since the newest signed checkpoint (absent: none signed, e.g. no key).",
        )
        families: list[Metric] = [up, backlog, oldest, head, checkpoint, age]
        if not read:
            return families
        up.add_metric([], 1.0 if signs is not None else 0.0)
        if signs is None:
            return families
        for waiting in signs.backlog:
            backlog.add_metric([waiting.status.value], waiting.count)
            oldest.add_metric([waiting.status.value], signs.backlog_age_seconds(waiting))
        head.add_metric([], signs.head_sequence)
        if signs.checkpoint_sequence is not None:
            checkpoint.add_metric([], signs.checkpoint_sequence)
        checkpoint_age = signs.checkpoint_age_seconds
        if checkpoint_age is not None:
            age.add_metric([], checkpoint_age)
        return families

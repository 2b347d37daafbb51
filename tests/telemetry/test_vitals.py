"""The database-backed gauges: read on scrape, at most once per `ttl`, absent on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest

from app.domain.models import NotificationStatus
from app.services.vitals import Backlog, VitalSigns
from app.telemetry.vitals import VitalsCollector
from tests.support.scrape import Scrape

NOW = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reader:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def __call__(self) -> VitalSigns:
        self.calls += 1
        if self.fail:
            raise ConnectionError("database away")
        return VitalSigns(
            read_at=NOW,
            backlog=(
                Backlog(NotificationStatus.PENDING, 0, None),
                Backlog(NotificationStatus.RETRYING, 3, NOW - timedelta(minutes=10)),
            ),
            head_sequence=42 + self.calls,
            checkpoint_sequence=40,
            checkpoint_signed_at=NOW - timedelta(hours=2),
        )


def scrape(collector: VitalsCollector) -> Scrape:
    registry = CollectorRegistry()
    registry.register(collector)
    return Scrape.parse(generate_latest(registry).decode())


async def test_a_reading_is_cached_for_ttl_seconds() -> None:
    clock, read = Clock(), Reader()
    collector = VitalsCollector(read, ttl=5, monotonic=clock)
    assert scrape(collector).samples == {}  # registering and collecting read nothing
    await collector.refresh()
    await collector.refresh()
    clock.now += 4.9
    await collector.refresh()
    assert read.calls == 1
    first = scrape(collector)
    assert first.value("confid_audit_head_sequence") == 43
    assert first.value("confid_outbox_backlog", status="RETRYING") == 3
    assert first.value("confid_outbox_oldest_age_seconds", status="RETRYING") == 600
    assert first.value("confid_outbox_oldest_age_seconds", status="PENDING") == 0
    assert first.value("confid_audit_checkpoint_age_seconds") == 7200
    assert first.value("confid_audit_checkpoint_sequence") == 40
    clock.now += 0.2
    await collector.refresh()
    assert read.calls == 2
    assert scrape(collector).value("confid_audit_head_sequence") == 44


async def test_a_failed_read_leaves_the_gauges_out() -> None:
    clock, read = Clock(), Reader()
    collector = VitalsCollector(read, ttl=5, monotonic=clock)
    read.fail = True
    await collector.refresh()
    failed = scrape(collector)
    assert failed.value("confid_vitals_up") == 0
    assert not failed.has("confid_audit_head_sequence")
    read.fail = False
    clock.now += 5
    await collector.refresh()
    assert scrape(collector).value("confid_vitals_up") == 1


async def test_no_checkpoint_means_no_checkpoint_gauges() -> None:
    async def read() -> VitalSigns:
        return VitalSigns(NOW, (), 0, None, None)

    collector = VitalsCollector(read, ttl=5)
    await collector.refresh()
    scraped = scrape(collector)
    assert scraped.value("confid_audit_head_sequence") == 0
    assert not scraped.has("confid_audit_checkpoint_age_seconds")
    assert not scraped.has("confid_audit_checkpoint_sequence")

"""The soak tool (app.tools.soak): a short soak against a real uvicorn process, its
invariants and zero unexpected errors."""

from __future__ import annotations

from pathlib import Path

from app.tools.soak import soak
from tests.support.api import TOKENS
from tests.support.served import VAST_RATE_LIMITS, running_confid


async def test_short_soak(tmp_path: Path) -> None:
    with running_confid(tmp_path, CONFID_DEMO_USERS="25", **VAST_RATE_LIMITS) as base:
        report = await soak(base, TOKENS["admin"], requests=400, seconds=60, concurrency=8, seed=3)
    print(report.render())
    assert report.unexpected == []
    assert report.invariant_failures == []
    assert report.requests == 400
    assert sum(len(report.latencies[k]) for k in ("reset", "set")) > 50

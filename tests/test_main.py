"""The app factory (app.main): its routes beside the API, such as the health checks."""

from __future__ import annotations

import asyncio
from typing import Any

from app.settings import Settings
from tests.support.api import Api, make_api
from tests.support.database import DATABASE, CallLog, Hold, WrappedDatabase


async def test_health_checks(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}


async def test_concurrent_readiness_probes_share_one_database_ping(
    settings: Settings, raw_database: Any
) -> None:
    """/readyz needs no token and no place among the requests in progress: 50 at once make
    one ping (held in the database until all have come), and the next one a second later."""
    hold, calls, ticks = Hold(), CallLog(), [0.0]
    api = await make_api(
        settings,
        WrappedDatabase(raw_database, hold=hold, log=calls),
        monotonic=lambda: ticks[0],
    )
    try:
        calls.clear()
        hold.close()
        probes = [asyncio.ensure_future(api.client.get("/readyz")) for _ in range(50)]
        for _ in range(200):  # until the ping is held and every probe has arrived
            await asyncio.sleep(0)
        assert hold.waiting == 1
        hold.release()
        assert [r.status_code for r in await asyncio.gather(*probes)] == [200] * 50
        assert calls.calls == [(DATABASE, "command")]
        assert (await api.client.get("/readyz")).status_code == 200
        assert len(calls.calls) == 1  # the answer is reused for a second
        ticks[0] += 1.0
        assert (await api.client.get("/readyz")).status_code == 200
        assert calls.calls == [(DATABASE, "command")] * 2
    finally:
        hold.release()
        await api.client.aclose()

"""confid in process configured for OpenID Connect against the test provider (`idp`), with
a clock the tests move."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.services.identity import IdentityClock
from app.settings import Settings
from tests.support.api import Api, make_api
from tests.support.idp import AUDIENCE, CLIENT_ID, Provider

LEEWAY = 30.0


@dataclass
class Clock:
    """Wall time shifted by `offset`; monotonic time that moves only when a test says so."""

    offset: float = 0.0
    ticks: float = 0.0

    def wall(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return self.ticks


def oidc_settings(settings: Settings, provider: Provider, **changes: Any) -> Settings:
    options: dict[str, Any] = {
        "oidc_issuer": provider.issuer,
        "oidc_audiences": (AUDIENCE,),
        "oidc_role_map": (("ConfId.Admin", "admin"),),
        "oidc_client_id": CLIENT_ID,
        "oidc_leeway_seconds": LEEWAY,
    }
    return dataclasses.replace(settings, **(options | changes))


@contextlib.asynccontextmanager
async def serving(settings: Settings, database: Any, clock: Clock) -> AsyncIterator[Api]:
    """confid in process, its token checks reading `clock`."""
    times = IdentityClock(wall=clock.wall, monotonic=clock.monotonic)
    api = await make_api(settings, database, identity_clock=times)
    try:
        yield api
    finally:
        await api.client.aclose()
        await api.app.state.authenticator.close()

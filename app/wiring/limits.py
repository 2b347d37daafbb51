"""The API's limits: per-role token buckets, the maximum query cost, trail-length pricing,
and what one caller may hold of the websockets."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.api.live_context import LivePolicy
from app.api.live_limits import SocketGate, TokenSlots
from app.api.throttle import ApiLimits, RateLimiter, TrailLength
from app.domain.bucket import BucketSize
from app.domain.models import Role
from app.services.container import Services
from app.settings import RateLimit, Settings

log = logging.getLogger("confid")


def _bucket(limit: RateLimit | None) -> BucketSize | None:
    return BucketSize(float(limit.points), float(limit.per_second)) if limit else None


def build_api_limits(
    settings: Settings, services: Services, monotonic: Callable[[], float]
) -> ApiLimits:
    """Rate limits per role, the maximum query cost, and the trail length pricing scans."""
    sizes = {
        Role.ADMIN: _bucket(settings.rate_limit_admin),
        Role.HELPDESK: _bucket(settings.rate_limit_helpdesk),
        Role.AUDITOR: _bucket(settings.rate_limit_auditor),
    }
    return ApiLimits(
        RateLimiter(sizes, monotonic),
        settings.max_query_cost,
        TrailLength(services.audit.trail_length, monotonic),
    )


def build_live_policy(
    settings: Settings, wall: Callable[[], float], refused: Callable[[str], None]
) -> LivePolicy:
    """Websockets and subscriptions per token and per address, the idle time, the clock of
    token expiry, and where refusals are counted."""
    return LivePolicy(
        TokenSlots(settings.subscriptions_per_token),
        SocketGate(settings.websockets_per_token, settings.websockets_unauthenticated_per_address),
        per_connection=settings.subscriptions_per_connection,
        idle_seconds=settings.websocket_idle_seconds,
        wall=wall,
        refused=refused,
    )

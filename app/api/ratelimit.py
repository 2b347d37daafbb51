"""`rateLimit`: the caller's cost-point budget, as GitHub's GraphQL API reports it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import strawberry

from app.api.context import Info
from app.domain.access import Capability
from app.domain.instants import to_millis_utc


@strawberry.type(
    description="The caller's rate limit: a bucket of cost points per token that refills "
    "continuously (see extensions.cost in every response)."
)
class RateLimit:
    limit: int = strawberry.field(description="Points the bucket holds when full.")
    remaining: int = strawberry.field(
        description="Points left now, after this request's own cost was taken."
    )
    reset_at: datetime = strawberry.field(description="When the bucket will be full again.")
    cost: int = strawberry.field(description="What this request was charged up front.")
    restore_rate: float = strawberry.field(description="Points flowing back per second.")


@strawberry.type(description="The caller's rate limit.")
class RateLimitQuery:
    @strawberry.field(
        description="This token's rate limit: points left, when the bucket is full again, and "
        "what this request costs. Null when the token's role has no rate limit."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        ctx = info.context
        principal = ctx.require(Capability.READ_DIRECTORY)
        budget = ctx.budget
        status = budget.limits.limiter.status(principal) if budget is not None else None
        if budget is None or status is None:
            return None
        full_in = min(status.full_in, 365 * 24 * 3600.0)
        return RateLimit(
            limit=status.limit,
            remaining=status.remaining,
            reset_at=to_millis_utc(datetime.now(UTC) + timedelta(seconds=full_in)),
            cost=budget.requested or 0,
            restore_rate=status.restore_rate,
        )

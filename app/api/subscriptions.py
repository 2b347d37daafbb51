"""The Subscription root: the audit trail and the email records, live.

Each subscription checks the role like any field (permission extensions), holds one of the
caller's slots while it runs, and is recorded in the access log when it starts (with its
filter), since it reads the trail from then on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import strawberry

from app.api import enums
from app.api.context import Info
from app.api.ids import require_id
from app.api.live_context import LiveContext
from app.api.permissions import requires
from app.api.types import AuditEvent, Notification
from app.domain.access import Capability
from app.domain.errors import BadRequest
from app.domain.reads import AuditFilter
from app.domain.subscription import NotificationFilter

ACTOR_MAX = 100


@strawberry.input(description="Which new audit entries to receive; fields combine with AND.")
class AuditEventFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this user's entries."
    )
    action: enums.AuditAction | None = strawberry.field(
        default=None, description="Only this action."
    )
    outcome: enums.AuditOutcome | None = strawberry.field(
        default=None, description="Only this outcome."
    )
    actor: str | None = strawberry.field(default=None, description="Only this actor (token name).")

    def domain(self) -> AuditFilter:
        if self.actor is not None and len(self.actor) > ACTOR_MAX:
            raise BadRequest(f"`actor` may have at most {ACTOR_MAX} characters.")
        user = require_id(self.user_id, "User", "userId") if self.user_id is not None else None
        return AuditFilter(user_id=user, action=self.action, outcome=self.outcome, actor=self.actor)


@strawberry.input(
    name="NotificationFilter",
    description="Which email records to receive; fields combine with AND.",
)
class NotificationFilterInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this user's emails."
    )
    kind: enums.NotificationKind | None = strawberry.field(
        default=None, description="Only this kind."
    )
    status: enums.NotificationStatus | None = strawberry.field(
        default=None, description="Only records that now have this status."
    )

    def domain(self) -> NotificationFilter:
        user = require_id(self.user_id, "User", "userId") if self.user_id is not None else None
        return NotificationFilter(user_id=user, kind=self.kind, status=self.status)


def _live(info: Info) -> LiveContext:
    context = info.context
    if not isinstance(context, LiveContext):
        raise BadRequest("Subscriptions run over a websocket (graphql-transport-ws) on /graphql.")
    return context


@strawberry.type(
    description="Live updates over graphql-transport-ws on /graphql (token in `connection_init`)."
)
class Subscription:
    @strawberry.subscription(
        description="Each audit entry as it is appended (by any confid process), in sequence "
        "order, once. With `afterSequence`, the entries after that one are sent first (at "
        "most 10,000 back), so a client resumes without a gap. A subscriber that falls "
        "1,000 entries behind is dropped: the socket closes with 1013 and a reason. "
        "(admin, auditor)",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def audit_event_appended(
        self,
        info: Info,
        filter: Annotated[
            AuditEventFilter | None, strawberry.argument(description="Which entries to send.")
        ] = None,
        after_sequence: Annotated[
            int | None,
            strawberry.argument(
                description="Resume after this sequence (the last one received): entries "
                "appended since then come first."
            ),
        ] = None,
    ) -> AsyncIterator[AuditEvent]:
        ctx = _live(info)
        where = (filter or AuditEventFilter()).domain()
        details = where.describe()
        if after_sequence is not None:
            details["afterSequence"] = str(after_sequence)
        # Refusals here (before any event) reach the client as the protocol's `error`.
        ctx.slots_free()
        await ctx.services.live.audit.check_resume(after_sequence)
        return _events(ctx, where, after_sequence, details)

    @strawberry.subscription(
        description="Each email record as it is recorded or its delivery status changes "
        "(by any confid process); two changes close together may arrive as the latest "
        "state only, never an older state after a newer one. (admin)",
        extensions=requires(Capability.WATCH_EMAILS),
    )
    async def notification_updated(
        self,
        info: Info,
        filter: Annotated[
            NotificationFilterInput | None,
            strawberry.argument(description="Which email records to send."),
        ] = None,
    ) -> AsyncIterator[Notification]:
        ctx = _live(info)
        where = (filter or NotificationFilterInput()).domain()
        ctx.slots_free()
        return _notifications(ctx, where)


async def _events(
    ctx: LiveContext, where: AuditFilter, after: int | None, details: dict[str, str]
) -> AsyncIterator[AuditEvent]:
    assert ctx.slots is not None and ctx.principal is not None
    async with ctx.slots.hold(ctx.principal):
        stream = await ctx.services.live.audit.subscribe(where, after, ctx.live.drop)
        try:
            await ctx.services.audit.record_access(
                ctx.request_meta(), "auditEventAppended", details
            )
            async for entry in stream:
                ctx.forget_loaded()
                yield AuditEvent.of(entry)
        finally:
            await stream.aclose()  # leaves the tail now, not when collected


async def _notifications(
    ctx: LiveContext, where: NotificationFilter
) -> AsyncIterator[Notification]:
    assert ctx.slots is not None and ctx.principal is not None
    async with ctx.slots.hold(ctx.principal):
        stream = await ctx.services.live.notifications.subscribe(where, ctx.live.drop)
        try:
            await ctx.services.audit.record_access(
                ctx.request_meta(), "notificationUpdated", where.describe()
            )
            async for note in stream:
                ctx.forget_loaded()
                yield Notification(_note=note)
        finally:
            await stream.aclose()

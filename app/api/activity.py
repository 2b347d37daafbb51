"""Aggregates for dashboards: `conferenceIdActivity` and `notificationStats` (admin,
auditor: they are counts read from the audit trail and the email records, so they need the
role that may read those, and each read is recorded in the access log)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.api import enums
from app.api.context import Info
from app.api.enums import graphql_enum
from app.api.ids import require_id
from app.api.permissions import requires
from app.domain import activity
from app.domain.access import Capability
from app.domain.instants import iso_millis

graphql_enum(
    activity.Interval,
    "How long one bucket of a chart is (UTC: days start at 00:00 UTC, weeks on Monday).",
    {
        activity.Interval.HOUR: "One hour.",
        activity.Interval.DAY: "One day, from 00:00 UTC.",
        activity.Interval.WEEK: "One ISO week, from Monday 00:00 UTC.",
    },
    name="ActivityInterval",
)


@strawberry.type(description="What happened to conference IDs in one bucket of time.")
class ActivityBucket:
    _bucket: strawberry.Private[activity.ActivityBucket]

    @strawberry.field(description="When the bucket begins (its end is the next one's start).")
    def start(self) -> datetime:
        return self._bucket.start

    @strawberry.field(description="Users enabled for audio conferencing (successful ASSIGN).")
    def enabled(self) -> int:
        return self._bucket.enabled

    @strawberry.field(description="Hand-picked IDs set (successful SET).")
    def set(self) -> int:
        return self._bucket.set

    @strawberry.field(description="IDs reset to a generated one (successful RESET).")
    def reset(self) -> int:
        return self._bucket.reset

    @strawberry.field(description="Conference info emailed on demand (successful SEND_INFO).")
    def send_info(self) -> int:
        return self._bucket.send_info

    @strawberry.field(description="Refused attempts of any action (REJECTED entries).")
    def rejected(self) -> int:
        return self._bucket.rejected


@strawberry.type(description="How many of the emails recorded in a range have a status now.")
class NotificationStatusCount:
    status: enums.NotificationStatus = strawberry.field(description="The delivery status.")
    count: int = strawberry.field(description="Emails with that status.")


FromArg = Annotated[
    datetime,
    strawberry.argument(
        name="from",
        description="Start of the range (inclusive); counted from the start of its bucket.",
    ),
]
ToArg = Annotated[
    datetime | None,
    strawberry.argument(description="End of the range (exclusive); now when omitted."),
]


@strawberry.type(description="Aggregates for charts (admin, auditor).")
class ActivityQuery:
    @strawberry.field(
        description="Audit entries per bucket of time, counted by the database: changes by "
        "action and refusals, oldest bucket first, empty buckets included. At most 1,000 "
        "buckets per request. Cheap enough to refresh every few seconds (an index covers it).",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def conference_id_activity(
        self,
        info: Info,
        from_: FromArg,
        to: ToArg = None,
        interval: Annotated[
            activity.Interval, strawberry.argument(description="The length of one bucket.")
        ] = activity.Interval.DAY,
        bridge_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only entries about this bridge's IDs."),
        ] = None,
    ) -> list[ActivityBucket]:
        ctx = info.context
        bridge = require_id(bridge_id, "Bridge", "bridgeId") if bridge_id is not None else None
        details = {"from": iso_millis(from_), "interval": interval.value}
        if to is not None:
            details["to"] = iso_millis(to)
        if bridge is not None:
            details["bridgeId"] = bridge
        ctx.note_audit_read("conferenceIdActivity", details)
        buckets = await ctx.services.activity.conference_id_activity(from_, to, interval, bridge)
        return [ActivityBucket(_bucket=b) for b in buckets]

    @strawberry.field(
        description="The emails recorded in a range, counted by their delivery status now "
        "(every status listed, zeros included).",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def notification_stats(
        self, info: Info, from_: FromArg, to: ToArg = None
    ) -> list[NotificationStatusCount]:
        ctx = info.context
        details = {"from": iso_millis(from_)}
        if to is not None:
            details["to"] = iso_millis(to)
        ctx.note_audit_read("notificationStats", details)
        counts = await ctx.services.activity.notification_stats(from_, to)
        return [NotificationStatusCount(status=c.status, count=c.count) for c in counts]

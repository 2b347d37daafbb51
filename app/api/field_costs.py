"""What each field costs, in points of the static cost model (`app.api.cost`).

Every object a query returns costs 1 point; scalars are free. A field declared here adds
its own work on top: a database read or a count, a change (which appends to the audit
trail for ever), a scan of the whole trail. Lists declare how many items to assume; a list
inside a paged field (a connection's `edges`) is one page long (`first`, default 20).

A field must be declared here when it is a root field, takes arguments, has an async
resolver (it does I/O) or returns a list of objects: `undeclared()` names any that is not,
and the schema refuses to load then, so a new field cannot silently be free.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

PAGE = -1  # `items` of a connection's `edges`: as many as the enclosing field's `first`
MUTATION = 100  # a change: eight round trips and an audit entry kept for ever
LOOKUP = 10  # one user's policy check or ID lookup: a few indexed reads
COUNT = 10  # counting every matching audit entry
TRAIL_READ = 2  # a page of the trail: the read plus its access-log record
SCAN = 10  # verification of the whole chain, plus its per-entry part (see `cost`)
SUBSCRIPTION = 10  # a tail's subscriber: a bounded queue and its share of the fan-out


@dataclass(frozen=True, slots=True)
class FieldCost:
    """A field's own points, assumed list length, and whether it scans the whole trail."""

    own: int = 0
    items: int = 1
    scans_trail: bool = False


FIELD_COSTS: dict[str, FieldCost] = {
    # Reads by the directory role.
    "Query.viewer": FieldCost(),
    "Query.node": FieldCost(own=1),
    "Query.user": FieldCost(own=1),
    "Query.users": FieldCost(own=1),
    "Query.bridges": FieldCost(items=10),  # cached in process; few per tenant
    "Query.checkConferenceId": FieldCost(own=LOOKUP),  # not a free oracle (docs/api.md, Roles)
    "Query.lookupConferenceId": FieldCost(own=LOOKUP),
    "Query.auditSigningKey": FieldCost(),
    "Query.rateLimit": FieldCost(),
    # Reads of the trail (each one is recorded in the access log).
    "Query.auditEvents": FieldCost(own=TRAIL_READ),
    "Query.notifications": FieldCost(own=TRAIL_READ),
    "Query.auditCheckpoints": FieldCost(own=1),
    "Query.auditAccessLog": FieldCost(own=1),
    "Query.verifyAuditTrail": FieldCost(own=SCAN, scans_trail=True),
    "Query.userEvidence": FieldCost(own=SCAN, scans_trail=True),
    "User.conferenceIdHistory": FieldCost(own=TRAIL_READ),
    "AuditEventConnection.totalCount": FieldCost(own=COUNT),
    # Up to 1,000 each are read; 100 is assumed (users with more are rare, and the
    # chain scan that dominates the pack is charged by the trail's length).
    "UserEvidence.entries": FieldCost(items=100),
    "UserEvidence.notifications": FieldCost(items=100),
    # Batched loads (one query per request for all of them) and in-process bridge reads.
    "AudioConferencing.bridge": FieldCost(),
    "AudioConferencing.tollNumber": FieldCost(),
    "AudioConferencing.tollFreeNumber": FieldCost(),
    "AuditEvent.user": FieldCost(),
    "Notification.auditEvent": FieldCost(),
    "Notification.user": FieldCost(),
    "Notification.resendOf": FieldCost(own=1),  # one read by id (not batched)
    "User.latestAuditEvent": FieldCost(),
    # Pages.
    "UserConnection.edges": FieldCost(items=PAGE),
    "AuditEventConnection.edges": FieldCost(items=PAGE),
    "NotificationConnection.edges": FieldCost(items=PAGE),
    "AuditCheckpointConnection.edges": FieldCost(items=PAGE),
    "AuditAccessConnection.edges": FieldCost(items=PAGE),
    # Charts: one aggregation over a time range; a bucket per hour, day or week (at most
    # 1,000), a month of days assumed.
    "Query.conferenceIdActivity": FieldCost(own=COUNT, items=31),
    "Query.notificationStats": FieldCost(own=COUNT, items=6),
    # Subscriptions: starting one costs this (app.api.live.SUBSCRIPTION_COST); its events
    # are not charged again.
    "Subscription.auditEventAppended": FieldCost(own=SUBSCRIPTION),
    "Subscription.notificationUpdated": FieldCost(own=SUBSCRIPTION),
    # Bulk resets. A preview resolves up to 10,000 selectors: priced like a change.
    "Query.previewBulkReset": FieldCost(own=MUTATION),
    "BulkResetPreview.users": FieldCost(),  # `first` items (the cost model caps it at 100)
    "BulkResetPreview.skipped": FieldCost(),
    "Query.bulkResetJob": FieldCost(own=1),
    "Query.bulkResetJobs": FieldCost(own=1),
    "BulkResetJobConnection.edges": FieldCost(items=PAGE),
    "BulkResetJob.results": FieldCost(own=TRAIL_READ),
    "BulkResetResultConnection.edges": FieldCost(items=PAGE),
    "BulkResetResult.user": FieldCost(),  # batched loads
    "BulkResetResult.auditEvent": FieldCost(),
    "Mutation.startBulkReset": FieldCost(own=MUTATION),
    "Mutation.cancelBulkReset": FieldCost(own=MUTATION),
    "StartBulkResetPayload.userErrors": FieldCost(items=5),
    "CancelBulkResetPayload.userErrors": FieldCost(items=5),
    # Changes: accepted or refused, each costs the same (a refusal is audited too).
    "Mutation.enableAudioConferencing": FieldCost(own=MUTATION),
    "Mutation.setConferenceId": FieldCost(own=MUTATION),
    "Mutation.resetConferenceId": FieldCost(own=MUTATION),
    "Mutation.sendConferenceInfo": FieldCost(own=MUTATION),
    "Mutation.createAuditCheckpoint": FieldCost(own=MUTATION),
    "Mutation.resendNotification": FieldCost(own=MUTATION),
    # Short lists of problems.
    "ConferenceIdCheck.errors": FieldCost(items=5),
    "EnableAudioConferencingPayload.userErrors": FieldCost(items=5),
    "SetConferenceIdPayload.userErrors": FieldCost(items=5),
    "ResetConferenceIdPayload.userErrors": FieldCost(items=5),
    "SendConferenceInfoPayload.userErrors": FieldCost(items=5),
    "CreateAuditCheckpointPayload.userErrors": FieldCost(items=5),
    "ResendNotificationPayload.userErrors": FieldCost(items=5),
}

FREE = FieldCost()


def undeclared(schema: GraphQLSchema) -> list[str]:
    """Fields that must be declared in FIELD_COSTS and are not, and declarations that name
    no field (a renamed field must not keep a stale price)."""
    missing: list[str] = []
    present: set[str] = set()
    roots = {schema.query_type, schema.mutation_type}
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            key = f"{type_name}.{field_name}"
            present.add(key)
            definition = (field.extensions or {}).get("strawberry-definition")
            nullable = get_nullable_type(field.type)
            needs = (
                named in roots
                or bool(field.args)
                or bool(getattr(definition, "is_async", False))
                or (is_list_type(nullable) and is_composite_type(get_named_type(field.type)))
            )
            if needs and key not in FIELD_COSTS:
                missing.append(key)
    stale = [f"{key} (no such field)" for key in FIELD_COSTS if key not in present]
    return sorted(missing) + sorted(stale)

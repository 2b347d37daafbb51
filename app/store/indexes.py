"""Indexes, created at start-up; the unique ones are what make races harmless."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from app.store.database import (
    AUDIT_ACCESS_LOG,
    AUDIT_CHECKPOINTS,
    AUDIT_EVENTS,
    BULK_RESET_ITEMS,
    BULK_RESET_JOBS,
    CONFERENCE_IDS,
    IDEMPOTENCY_KEYS,
    NOTIFICATIONS,
    USERS,
    Database,
)


async def ensure_indexes(database: Database) -> None:
    """Create every index confid relies on (idempotent)."""
    users = database.get_collection(USERS)
    await users.create_index([("emailKey", ASCENDING)], unique=True, name="email_unique")
    await users.create_index(
        [("displayNameKey", ASCENDING), ("_id", ASCENDING)], name="directory_order"
    )
    # A second guard behind the registry: no two users hold one ID on a bridge.
    await users.create_index(
        [("audio.bridgeId", ASCENDING), ("audio.conferenceId", ASCENDING)],
        unique=True,
        sparse=True,
        name="active_id_unique",
    )
    await users.create_index([("lock.at", ASCENDING)], sparse=True, name="lock_age")

    # conference_ids: the primary key `<bridge>:<id>` is the claim; this serves the sweep.
    ids = database.get_collection(CONFERENCE_IDS)
    await ids.create_index([("state", ASCENDING), ("at", ASCENDING)], name="state_age")
    await ids.create_index([("op", ASCENDING)], name="by_operation")

    events = database.get_collection(AUDIT_EVENTS)  # _id is the gapless sequence
    await events.create_index([("operationId", ASCENDING)], unique=True, name="one_per_operation")
    await events.create_index([("userId", ASCENDING), ("_id", DESCENDING)], name="by_user")
    await events.create_index([("actor.name", ASCENDING), ("_id", DESCENDING)], name="by_actor")
    await events.create_index(
        [("actor.subject", ASCENDING), ("_id", DESCENDING)], name="by_actor_subject"
    )
    await events.create_index([("occurredAt", DESCENDING)], name="by_time")
    await events.create_index(
        [("incidentId", ASCENDING), ("_id", DESCENDING)], sparse=True, name="by_incident"
    )
    # conferenceIdActivity: the time range (and bridge) lead, action and outcome follow, so
    # MongoDB answers the whole aggregation from this index alone (a covered query).
    await events.create_index(
        [("occurredAt", ASCENDING), ("bridgeId", ASCENDING), ("action", ASCENDING),
         ("outcome", ASCENDING)],
        name="activity",
    )  # fmt: skip

    notes = database.get_collection(NOTIFICATIONS)
    await notes.create_index([("operationId", ASCENDING)], unique=True, name="one_per_operation")
    await notes.create_index([("auditSequence", DESCENDING)], unique=True, name="by_sequence")
    await notes.create_index([("userId", ASCENDING), ("auditSequence", DESCENDING)], name="by_user")
    await notes.create_index([("status", ASCENDING), ("createdAt", ASCENDING)], name="by_status")
    # notificationStats: emails recorded in a time range, by status, from the index alone.
    await notes.create_index(
        [("createdAt", ASCENDING), ("status", ASCENDING)], name="stats_by_time"
    )
    # The live email tail: records written since a moment (app.services.email_tail).
    await notes.create_index([("updatedAt", ASCENDING), ("_id", ASCENDING)], name="by_change")
    # resendNotification: has this FAILED email been sent again already?
    await notes.create_index([("resendOf", ASCENDING)], sparse=True, name="by_resend_of")
    # The delivery workers' query: RETRYING records by when they are due.
    await notes.create_index(
        [("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due_retries"
    )

    # Keys are remembered for a day; MongoDB's TTL monitor removes older ones.
    keys = database.get_collection(IDEMPOTENCY_KEYS)
    await keys.create_index([("createdAt", ASCENDING)], expireAfterSeconds=86400, name="ttl")

    checkpoints = database.get_collection(AUDIT_CHECKPOINTS)
    await checkpoints.create_index([("signedAt", DESCENDING)], name="by_time")
    await checkpoints.create_index([("sequence", ASCENDING)], name="by_sequence")

    access = database.get_collection(AUDIT_ACCESS_LOG)  # _id sorts by time
    await access.create_index([("actor.name", ASCENDING), ("_id", DESCENDING)], name="by_actor")

    # Bulk resets: _id grows with time (the list, newest first); workers claim by status.
    jobs = database.get_collection(BULK_RESET_JOBS)
    await jobs.create_index([("status", ASCENDING), ("_id", ASCENDING)], name="claimable")
    await jobs.create_index([("idemKey", ASCENDING)], unique=True, sparse=True, name="idem_key")
    items = database.get_collection(BULK_RESET_ITEMS)  # _id = <job>:<position>
    await items.create_index(
        [("jobId", ASCENDING), ("outcome", ASCENDING), ("index", ASCENDING)], name="by_outcome"
    )
    await items.create_index([("jobId", ASCENDING), ("index", ASCENDING)], name="by_position")

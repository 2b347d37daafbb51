"""Connecting to MongoDB (real or embedded) and the few calls whose drivers differ."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("confid.store")

# Either client's database object: pymongo's AsyncDatabase or mongomock-motor's.
Database = Any
Collection = Any

USERS = "users"
BRIDGES = "bridges"
CONFERENCE_IDS = "conference_ids"
AUDIT_EVENTS = "audit_events"
NOTIFICATIONS = "notifications"
IDEMPOTENCY_KEYS = "idempotency_keys"
AUDIT_CHECKPOINTS = "audit_checkpoints"
AUDIT_ACCESS_LOG = "audit_access_log"
BULK_RESET_JOBS = "bulk_reset_jobs"
BULK_RESET_ITEMS = "bulk_reset_items"


@dataclass(slots=True)
class Connection:
    """An open database and how to close its client (None when injected)."""

    database: Database
    client: Any | None
    embedded: bool

    async def close(self) -> None:
        """Close the client if confid opened it; both drivers' close may be sync or async."""
        if self.client is None:
            return
        closed = self.client.close()
        if inspect.isawaitable(closed):
            await closed


def connect(url: str | None, name: str) -> Connection:
    """Open database `name`: on MongoDB at `url` (a database in the URL wins), or in memory
    when `url` is None."""
    if url is not None:
        from pymongo import AsyncMongoClient

        # Bounded waits: an unreachable server is an error within seconds, never a hang.
        client: Any = AsyncMongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=3000,
            connectTimeoutMS=3000,
            timeoutMS=15000,
        )
        default = client.get_default_database(default=name)
        return Connection(default, client, embedded=False)
    from mongomock_motor import AsyncMongoMockClient

    client = AsyncMongoMockClient()
    log.warning(
        "EMBEDDED IN-MEMORY STORE: data lives in this process only and is LOST AT EXIT. "
        "Set MONGODB_URL to use a real MongoDB."
    )
    return Connection(client[name], client, embedded=True)


async def aggregate(collection: Collection, pipeline: list[dict[str, Any]]) -> list[Any]:
    """Run a pipeline on either driver (pymongo awaits `aggregate`, mongomock-motor not)."""
    if pipeline and "$match" in pipeline[0] and _embedded(collection):
        return await _embedded_aggregate(collection, pipeline)
    cursor = collection.aggregate(pipeline)
    if inspect.isawaitable(cursor):
        cursor = await cursor
    return list(await cursor.to_list(None))


def _embedded(collection: Collection) -> bool:
    return type(collection).__module__.partition(".")[0] == "mongomock_motor"


def _inclusion(projection: Any) -> bool:
    """A `$project` that only keeps fields (and may drop `_id`): a find can do it."""
    return isinstance(projection, dict) and all(
        value in (1, True) or (key == "_id" and value in (0, False))
        for key, value in projection.items()
    )


async def _embedded_aggregate(collection: Collection, pipeline: list[dict[str, Any]]) -> list[Any]:
    """The same pipeline on mongomock, without its cost: mongomock copies EVERY document
    of the collection before the first stage runs (~100 ms per 1,000 entries), so the
    leading `$match` (and an inclusion `$project` right after it) run as a `find`, which
    copies only the matching documents' kept fields, and mongomock's own pipeline code
    runs the rest. On MongoDB the server plans the pipeline (and uses the indexes)."""
    from mongomock.aggregate import process_pipeline

    stages = list(pipeline)
    match = stages.pop(0)["$match"]
    projection = (
        stages.pop(0)["$project"] if stages and _inclusion(stages[0].get("$project")) else None
    )
    docs = await collection.find(match, projection).to_list(None)
    if not stages:
        return list(docs)
    return list(process_pipeline(docs, None, stages, None))  # type: ignore[no-untyped-call]


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached", not a bug."""
    from pymongo.errors import ConnectionFailure, ExecutionTimeout

    return isinstance(error, ConnectionFailure | ExecutionTimeout)


async def ping(database: Database) -> None:
    """Raise when the database does not answer."""
    await database.command("ping")

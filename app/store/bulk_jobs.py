"""The `bulk_reset_jobs` and `bulk_reset_items` collections: bulk reset jobs, their lease,
their progress, and one item per selected user (or skipped selector).

A job is worked on by whoever holds its lease (`lease.owner`, `lease.until`): taking it is
one atomic update that requires the lease to be free or expired, and every progress write
requires it still held, so a process that lost its lease can write nothing more. The
position and the counts move together in one update (`advance`), conditional on the
position, so a step that is repeated after a crash is counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.bulk import BulkItem, BulkJob, ItemOutcome, JobStatus, SkipReason
from app.domain.errors import UserErrorCode
from app.domain.models import RequestMeta
from app.store.codec import meta_doc, meta_from, utc
from app.store.database import BULK_RESET_ITEMS, BULK_RESET_JOBS, Database

INSERT_CHUNK = 1000
_LIVE = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]


def item_id(job_id: str, index: int) -> str:
    """Items sort by job, then position."""
    return f"{job_id}:{index:08d}"


def _job_doc(job: BulkJob) -> dict[str, Any]:
    return {
        "_id": job.id,
        "incidentId": job.incident_id,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "skipped": job.skipped,
        "reason": job.reason,
        "sendEmail": job.send_email,
        "meta": meta_doc(job.meta),
        "createdAt": job.created_at,
        "nextIndex": job.next_index,
    }


def _job_from(doc: dict[str, Any]) -> BulkJob:
    lease = doc.get("lease") or {}
    return BulkJob(
        id=doc["_id"],
        incident_id=doc["incidentId"],
        status=JobStatus(doc["status"]),
        total=int(doc["total"]),
        done=int(doc["done"]),
        failed=int(doc["failed"]),
        skipped=int(doc["skipped"]),
        reason=doc["reason"],
        send_email=bool(doc["sendEmail"]),
        meta=meta_from(doc["meta"]),
        created_at=utc(doc["createdAt"]),
        next_index=int(doc["nextIndex"]),
        started_at=utc(doc["startedAt"]) if doc.get("startedAt") else None,
        finished_at=utc(doc["finishedAt"]) if doc.get("finishedAt") else None,
        cancel_requested=bool(doc.get("cancelRequested", False)),
        cancel_meta=meta_from(doc["cancelMeta"]) if doc.get("cancelMeta") else None,
        ending=JobStatus(doc["ending"]) if doc.get("ending") else None,
        error=doc.get("error"),
        lease_owner=lease.get("owner"),
        lease_until=utc(lease["until"]) if lease.get("until") else None,
        epoch=int(doc.get("epoch", 0)),
    )


def _item_doc(item: BulkItem) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": item_id(item.job_id, item.index),
        "jobId": item.job_id,
        "index": item.index,
        "outcome": item.outcome.value,
    }
    if item.user_id is not None:
        doc["userId"] = item.user_id
    if item.selector is not None:
        doc["selector"] = item.selector
    if item.skip_reason is not None:
        doc["skipReason"] = item.skip_reason.value
    return doc


def _item_from(doc: dict[str, Any]) -> BulkItem:
    return BulkItem(
        job_id=doc["jobId"],
        index=int(doc["index"]),
        outcome=ItemOutcome(doc["outcome"]),
        user_id=doc.get("userId"),
        selector=doc.get("selector"),
        skip_reason=SkipReason(doc["skipReason"]) if doc.get("skipReason") else None,
        error_codes=tuple(UserErrorCode(c) for c in doc.get("errorCodes", ())),
        audit_sequence=int(doc["sequence"]) if doc.get("sequence") is not None else None,
        previous_conference_id=doc.get("previous"),
        new_conference_id=doc.get("new"),
    )


class BulkJobRepository:
    """Jobs, their lease and progress, and their items."""

    def __init__(self, database: Database) -> None:
        self._jobs = database.get_collection(BULK_RESET_JOBS)
        self._items = database.get_collection(BULK_RESET_ITEMS)

    # --- creating a job ------------------------------------------------------------------

    async def insert_items(self, items: Iterable[BulkItem]) -> None:
        """Store a job's items (before the job itself, which makes them visible)."""
        chunk: list[dict[str, Any]] = []
        for item in items:
            chunk.append(_item_doc(item))
            if len(chunk) >= INSERT_CHUNK:
                await self._items.insert_many(chunk)
                chunk = []
        if chunk:
            await self._items.insert_many(chunk)

    async def delete_items(self, job_id: str) -> None:
        """Drop the items of a job that was never stored (it lost an idempotency race)."""
        await self._items.delete_many({"jobId": job_id})

    async def insert(self, job: BulkJob, idempotency: tuple[str, str] | None) -> bool:
        """Store the job; False when another job already holds its idempotency key.

        `idempotency` is (scoped key, fingerprint of the input)."""
        doc = _job_doc(job)
        if idempotency is not None:
            doc["idemKey"], doc["fingerprint"] = idempotency
        try:
            await self._jobs.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def by_idempotency_key(self, key: str) -> tuple[BulkJob, str] | None:
        """The job started with this scoped key, and its input's fingerprint."""
        doc = await self._jobs.find_one({"idemKey": key})
        return (_job_from(doc), str(doc["fingerprint"])) if doc else None

    # --- reading ---------------------------------------------------------------------------

    async def get(self, job_id: str) -> BulkJob | None:
        doc = await self._jobs.find_one({"_id": job_id})
        return _job_from(doc) if doc else None

    async def page(self, first: int, before: str | None) -> tuple[list[BulkJob], bool]:
        """Newest first (ids grow with time): up to `first` jobs older than `before`."""
        query: dict[str, Any] = {"_id": {"$lt": before}} if before is not None else {}
        cursor = self._jobs.find(query).sort("_id", -1).limit(first + 1)
        docs = await cursor.to_list(None)
        return [_job_from(d) for d in docs[:first]], len(docs) > first

    async def items(
        self, job_id: str, first: int, after: int | None, outcome: ItemOutcome | None
    ) -> tuple[list[BulkItem], bool]:
        """A job's items in order after position `after`, optionally of one outcome."""
        query: dict[str, Any] = {"jobId": job_id}
        if after is not None:
            query["index"] = {"$gt": after}
        if outcome is not None:
            query["outcome"] = outcome.value
        cursor = self._items.find(query).sort("index", 1).limit(first + 1)
        docs = await cursor.to_list(None)
        return [_item_from(d) for d in docs[:first]], len(docs) > first

    async def count_items(self, job_id: str, outcome: ItemOutcome | None) -> int:
        query: dict[str, Any] = {"jobId": job_id}
        if outcome is not None:
            query["outcome"] = outcome.value
        return int(await self._items.count_documents(query))

    async def user_ids(self, job_id: str, start: int, stop: int) -> list[str]:
        """The users at positions start..stop-1 of the job, in order."""
        cursor = self._items.find(
            {"_id": {"$gte": item_id(job_id, start), "$lt": item_id(job_id, stop)}},
            {"userId": 1},
        ).sort("_id", 1)
        return [str(d["userId"]) for d in await cursor.to_list(None)]

    # --- the lease ---------------------------------------------------------------------------

    async def claim(
        self, owner: str, now: datetime, until: datetime, job_id: str | None = None
    ) -> BulkJob | None:
        """Take the lease of the oldest unfinished job (or of `job_id`) whose lease is free
        or expired, and count the epoch, in one atomic update; None when there is none."""
        query: dict[str, Any] = {
            "status": {"$in": _LIVE},
            "$or": [{"lease": {"$exists": False}}, {"lease.until": {"$lt": now}}],
        }
        if job_id is not None:
            query["_id"] = job_id
        doc = await self._jobs.find_one_and_update(
            query,
            {"$set": {"lease": {"owner": owner, "until": until}}, "$inc": {"epoch": 1}},
            sort=[("_id", 1)],
            return_document=ReturnDocument.AFTER,
        )
        return _job_from(doc) if doc else None

    async def start(self, job_id: str, owner: str, now: datetime) -> BulkJob | None:
        """Mark a leased job RUNNING (the first time: with `startedAt`)."""
        await self._jobs.update_one(
            {"_id": job_id, "lease.owner": owner, "startedAt": {"$exists": False}},
            {"$set": {"startedAt": now}},
        )
        doc = await self._jobs.find_one_and_update(
            {"_id": job_id, "lease.owner": owner, "status": {"$in": _LIVE}},
            {"$set": {"status": JobStatus.RUNNING.value}},
            return_document=ReturnDocument.AFTER,
        )
        return _job_from(doc) if doc else None

    async def renew(self, job_id: str, owner: str, until: datetime) -> BulkJob | None:
        """Extend the lease if this owner still holds it; the job as it is now, else None."""
        doc = await self._jobs.find_one_and_update(
            {"_id": job_id, "lease.owner": owner},
            {"$set": {"lease.until": until}},
            return_document=ReturnDocument.AFTER,
        )
        return _job_from(doc) if doc else None

    async def release(self, job_id: str, owner: str) -> None:
        """Give the lease back (a process stopping), so another may resume at once."""
        await self._jobs.update_one(
            {"_id": job_id, "lease.owner": owner}, {"$unset": {"lease": ""}}
        )

    # --- progress --------------------------------------------------------------------------

    async def record_item(self, item: BulkItem) -> None:
        """Write one user's result (idempotent: the same result may be written twice)."""
        update: dict[str, Any] = {"outcome": item.outcome.value}
        if item.error_codes:
            update["errorCodes"] = [c.value for c in item.error_codes]
        if item.audit_sequence is not None:
            update["sequence"] = item.audit_sequence
        if item.previous_conference_id is not None:
            update["previous"] = item.previous_conference_id
        if item.new_conference_id is not None:
            update["new"] = item.new_conference_id
        await self._items.update_one({"_id": item_id(item.job_id, item.index)}, {"$set": update})

    async def advance(
        self, job_id: str, owner: str, index: int, outcome: ItemOutcome, until: datetime
    ) -> BulkJob | None:
        """Move past position `index`, counting its outcome, and extend the lease -- only if
        this owner holds the lease and the job stands at `index`. None otherwise."""
        counter = "done" if outcome is ItemOutcome.RESET else "failed"
        doc = await self._jobs.find_one_and_update(
            {"_id": job_id, "lease.owner": owner, "nextIndex": index},
            {"$set": {"nextIndex": index + 1, "lease.until": until}, "$inc": {counter: 1}},
            return_document=ReturnDocument.AFTER,
        )
        return _job_from(doc) if doc else None

    # --- ending ------------------------------------------------------------------------------

    async def request_cancel(self, job_id: str, meta: RequestMeta) -> bool:
        """Ask an unfinished job to stop; False when it has finished (or is finishing)."""
        result = await self._jobs.update_one(
            {"_id": job_id, "status": {"$in": _LIVE}, "ending": {"$exists": False}},
            {"$set": {"cancelRequested": True, "cancelMeta": meta_doc(meta)}},
        )
        return bool(result.matched_count)

    async def begin_ending(
        self, job_id: str, owner: str, status: JobStatus, error: str | None
    ) -> BulkJob | None:
        """Fix how the job ends (kept if already fixed); the job as it is now, or None when
        the lease is not this owner's."""
        update: dict[str, Any] = {"ending": status.value}
        if error is not None:
            update["error"] = error
        await self._jobs.update_one(
            {"_id": job_id, "lease.owner": owner, "ending": {"$exists": False}}, {"$set": update}
        )
        doc = await self._jobs.find_one({"_id": job_id, "lease.owner": owner})
        return _job_from(doc) if doc else None

    async def mark_not_run(self, job_id: str) -> int:
        """The users an ending job never reached: PENDING becomes NOT_RUN (one update;
        repeating it changes nothing). Returns how many were marked."""
        result = await self._items.update_many(
            {"jobId": job_id, "outcome": ItemOutcome.PENDING.value},
            {"$set": {"outcome": ItemOutcome.NOT_RUN.value}},
        )
        return int(result.modified_count)

    async def finish(self, job_id: str, owner: str, status: JobStatus, now: datetime) -> bool:
        """Put the job in its end state and drop the lease; it never runs again."""
        result = await self._jobs.update_one(
            {"_id": job_id, "lease.owner": owner, "ending": status.value},
            {"$set": {"status": status.value, "finishedAt": now}, "$unset": {"lease": ""}},
        )
        return bool(result.matched_count)

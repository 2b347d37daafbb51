"""Bulk resets as the API offers them: preview a selection, start a job, cancel it, read
jobs and their results. The work itself is the worker's (`app.services.bulk_worker`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from bson import ObjectId

from app.domain.bulk import (
    BulkItem,
    BulkJob,
    ItemOutcome,
    JobStatus,
    Resolution,
    Selection,
    started_operation_id,
)
from app.domain.entry import AuditEntry
from app.domain.errors import Problem, Rejected, UserErrorCode
from app.domain.models import RequestMeta
from app.domain.policy import reason_problems
from app.services.bulk_selection import Selector
from app.services.bulk_trail import IncidentTrail
from app.services.bulk_worker import BulkResetWorker
from app.services.clock import Clock
from app.store.audit import AuditRepository
from app.store.bulk_jobs import BulkJobRepository

KEY_MAX = 100
SELECTION = ("selection",)


@dataclass(slots=True)
class StartOutcome:
    """What `startBulkReset` reports: the job (or the problems) and the start entry."""

    job: BulkJob | None = None
    audit_event: AuditEntry | None = None
    problems: list[Problem] = field(default_factory=list)
    replayed: bool = False


def _under(prefix: tuple[str, ...], problems: list[Problem]) -> list[Problem]:
    return [replace(p, field=(*prefix, *p.field)) for p in problems]


def _fingerprint(selection: Selection, reason: str, send_email: bool) -> str:
    text = json.dumps([selection.fingerprint_parts(), reason, send_email], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BulkResetService:
    """`previewBulkReset`, `startBulkReset`, `cancelBulkReset` and the job reads."""

    def __init__(
        self,
        *,
        jobs: BulkJobRepository,
        selector: Selector,
        trail: IncidentTrail,
        worker: BulkResetWorker,
        entries: AuditRepository,
        send_emails_automatically: bool,
        clock: Clock,
    ) -> None:
        self._jobs = jobs
        self._selector = selector
        self._trail = trail
        self.worker = worker
        self._entries = entries
        self._send_emails = send_emails_automatically
        self._clock = clock

    async def preview(self, selection: Selection) -> Resolution:
        """Who a job over this selection would reset now, and what it would skip; changes
        nothing. Raises Rejected when the selection itself is wrong."""
        return await self._selector.resolve(selection)

    async def start(
        self,
        meta: RequestMeta,
        selection: Selection,
        reason: str,
        send_email: bool | None,
        idempotency_key: str | None,
        *,
        expected_count: int | None = None,
    ) -> StartOutcome:
        """Accept a job (QUEUED; a worker runs it) and write its start entry; or refuse,
        with a REJECTED start entry. A key used before returns that job (`replayed`).
        With `expected_count` (the confirmed preview's count), a selection that now
        reaches another number of users is refused (SELECTION_CHANGED)."""
        email = self._send_emails if send_email is None else send_email
        reason = reason.strip()
        problems = _reason_problems(reason) + _under(SELECTION, selection.problems())
        scoped = None
        if idempotency_key is not None:
            if (
                not idempotency_key
                or len(idempotency_key) > KEY_MAX
                or not (idempotency_key.isprintable())
            ):
                problems.append(
                    Problem(
                        UserErrorCode.TOO_LONG,
                        f"An idempotency key has 1 to {KEY_MAX} printable characters.",
                        ("idempotencyKey",),
                    )
                )
            else:
                scoped = f"{meta.actor.owner}\x1f{idempotency_key}"  # a person's are theirs
        fingerprint = _fingerprint(selection, reason, email)
        if scoped is not None and not problems:
            earlier = await self._replay(meta, reason, scoped, fingerprint)
            if earlier is not None:
                return earlier
        if problems:
            return await self._refuse(meta, reason, problems)
        try:
            resolution = await self._selector.resolve(selection)
        except Rejected as refusal:
            return await self._refuse(meta, reason, _under(SELECTION, refusal.problems))
        if not resolution.users:
            problem = Problem(
                UserErrorCode.NOTHING_TO_RESET,
                "Nobody in this selection would be reset: every ID or user in it is skipped "
                "(see previewBulkReset for why).",
                SELECTION,
            )
            return await self._refuse(meta, reason, [problem])
        if expected_count is not None and expected_count != len(resolution.users):
            problem = Problem(
                UserErrorCode.SELECTION_CHANGED,
                f"This selection now reaches {_users(len(resolution.users))}, not the "
                f"{expected_count} of `expectedCount`: preview it again.",
                ("expectedCount",),
            )
            return await self._refuse(meta, reason, [problem])
        job = self._new_job(meta, resolution, reason, email)
        await self._jobs.insert_items(_items(job, resolution))
        idempotency = (scoped, fingerprint) if scoped is not None else None
        if not await self._jobs.insert(job, idempotency):
            await self._jobs.delete_items(job.id)  # a concurrent request with the key won
            assert scoped is not None
            earlier = await self._replay(meta, reason, scoped, fingerprint)
            if earlier is not None:
                return earlier
            raise RuntimeError("a bulk reset's idempotency key is taken by a job that is gone")
        entry = await self._trail.started(job)
        self.worker.wake()
        return StartOutcome(job=job, audit_event=entry)

    async def _replay(
        self, meta: RequestMeta, reason: str, scoped: str, fingerprint: str
    ) -> StartOutcome | None:
        """The job an earlier start with this key began (replayed), a refusal when that
        start had another input (audited like every refused start), or None."""
        found = await self._jobs.by_idempotency_key(scoped)
        if found is None:
            return None
        job, earlier = found
        if earlier != fingerprint:
            problem = Problem(
                UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was already used with a different input; use a new key "
                "for a new job.",
                ("idempotencyKey",),
            )
            return await self._refuse(meta, reason, [problem])
        entry = await self._entries.by_operation(started_operation_id(job.id))
        return StartOutcome(
            job=await self._jobs.get(job.id) or job, audit_event=entry, replayed=True
        )

    async def _refuse(
        self, meta: RequestMeta, reason: str, problems: list[Problem]
    ) -> StartOutcome:
        entry = await self._trail.refused(meta, reason, problems)
        return StartOutcome(audit_event=entry, problems=problems)

    def _new_job(
        self, meta: RequestMeta, resolution: Resolution, reason: str, send_email: bool
    ) -> BulkJob:
        oid = str(ObjectId())  # grows with time: the job list's order
        return BulkJob(
            id=f"job_{oid}",
            incident_id=f"inc_{oid}",
            status=JobStatus.QUEUED,
            total=len(resolution.users),
            done=0,
            failed=0,
            skipped=len(resolution.skipped),
            reason=reason,
            send_email=send_email,
            meta=meta,
            created_at=self._clock(),
        )

    async def cancel(self, meta: RequestMeta, job_id: str) -> tuple[BulkJob | None, list[Problem]]:
        """Ask a job to stop before its next user; a queued one (or one whose process died)
        ends at once. A finished job cannot be cancelled, nor ever run again."""
        job = await self._jobs.get(job_id)
        if job is None:
            return None, [
                Problem(UserErrorCode.NOT_FOUND, "No bulk reset job has this id.", ("id",))
            ]
        if not await self._jobs.request_cancel(job_id, meta):
            job = await self._jobs.get(job_id) or job
            state = (job.ending or job.status).value
            return job, [
                Problem(
                    UserErrorCode.JOB_FINISHED,
                    f"This job has already ended ({state}); a finished job is never run again.",
                    ("id",),
                )
            ]
        await self.worker.end_if_idle(job_id)
        self.worker.wake()
        return await self._jobs.get(job_id), []

    async def job(self, job_id: str) -> BulkJob | None:
        return await self._jobs.get(job_id)

    async def jobs(self, first: int, before: str | None) -> tuple[list[BulkJob], bool]:
        return await self._jobs.page(first, before)

    async def results(
        self, job_id: str, first: int, after: int | None, outcome: ItemOutcome | None
    ) -> tuple[list[BulkItem], bool]:
        return await self._jobs.items(job_id, first, after, outcome)

    async def count_results(self, job_id: str, outcome: ItemOutcome | None) -> int:
        return await self._jobs.count_items(job_id, outcome)


def _reason_problems(reason: str) -> list[Problem]:
    if not reason:
        return [
            Problem(
                UserErrorCode.REASON_REQUIRED,
                "Give a reason: it is kept in every audit entry of the incident.",
                ("reason",),
            )
        ]
    return reason_problems(reason)


def _items(job: BulkJob, resolution: Resolution) -> list[BulkItem]:
    """The users to reset (positions 0..total-1), then the skipped selectors."""
    items = [
        BulkItem(
            job.id, index, ItemOutcome.PENDING, user_id=user.id,
            selector=resolution.selected_by.get(user.id),
        )
        for index, user in enumerate(resolution.users)
    ]  # fmt: skip
    items += [
        BulkItem(
            job.id, job.total + number, ItemOutcome.SKIPPED,
            user_id=skip.user.id if skip.user else None, selector=skip.selector,
            skip_reason=skip.reason,
        )
        for number, skip in enumerate(resolution.skipped)
    ]  # fmt: skip
    return items


def _users(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count} users"

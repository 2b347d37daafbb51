"""A bulk reset in the audit trail as one incident: its start (or refusal) and its end.

Each user's reset is an ordinary RESET entry carrying the incident id; these two entries
frame them. Both have deterministic operation ids, so writing one again (a job resumed
after a crash) returns the entry already there.
"""

from __future__ import annotations

from app.domain.bulk import (
    BulkJob,
    JobStatus,
    finished_operation_id,
    finished_summary,
    started_operation_id,
    started_summary,
)
from app.domain.entry import AuditDraft, AuditEntry
from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction, AuditOutcome, RequestMeta
from app.domain.operation import new_operation_id
from app.domain.policy import reason_problems
from app.services.chain import AuditChain
from app.services.clock import Clock


class IncidentTrail:
    """Appends a job's BULK_RESET_STARTED and BULK_RESET_FINISHED entries."""

    def __init__(self, chain: AuditChain, clock: Clock) -> None:
        self._chain = chain
        self._clock = clock

    async def started(self, job: BulkJob) -> AuditEntry:
        """The job was accepted: who started it, why, and how many it will reset."""
        return await self._chain.append(
            self._draft(
                AuditAction.BULK_RESET_STARTED,
                job.meta,
                reason=job.reason,
                operation_id=started_operation_id(job.id),
                incident_id=job.incident_id,
                summary=started_summary(job.total, job.skipped, job.send_email),
            )
        )

    async def refused(
        self, meta: RequestMeta, reason: str | None, problems: list[Problem]
    ) -> AuditEntry:
        """A start that passed authorization but was refused (no job, no incident)."""
        return await self._chain.append(
            self._draft(
                AuditAction.BULK_RESET_STARTED,
                meta,
                reason=reason if reason and not reason_problems(reason) else None,
                operation_id=new_operation_id(),
                error_codes=tuple(dict.fromkeys(p.code for p in problems)),
            )
        )

    async def finished(self, job: BulkJob, status: JobStatus) -> AuditEntry:
        """The job ended: its end status and final counts. A cancel is recorded as done by
        whoever asked for it; any other end on behalf of whoever started the job."""
        meta = job.cancel_meta if status is JobStatus.CANCELLED and job.cancel_meta else job.meta
        return await self._chain.append(
            self._draft(
                AuditAction.BULK_RESET_FINISHED,
                meta,
                reason=job.reason,
                operation_id=finished_operation_id(job.id),
                incident_id=job.incident_id,
                summary=finished_summary(status, job),
            )
        )

    def _draft(
        self,
        action: AuditAction,
        meta: RequestMeta,
        *,
        reason: str | None,
        operation_id: str,
        incident_id: str | None = None,
        summary: str | None = None,
        error_codes: tuple[UserErrorCode, ...] = (),
    ) -> AuditDraft:
        return AuditDraft(
            occurred_at=self._clock(),
            action=action,
            outcome=AuditOutcome.REJECTED if error_codes else AuditOutcome.SUCCESS,
            error_codes=error_codes,
            user_id=None,
            bridge_id=None,
            previous_conference_id=None,
            new_conference_id=None,
            meta=meta,
            reason=reason,
            recipients=(),
            to_non_primary=False,
            operation_id=operation_id,
            incident_id=incident_id,
            summary=summary,
        )

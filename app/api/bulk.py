"""Bulk resets in the schema: `previewBulkReset`, `bulkResetJob`, `bulkResetJobs` (mixed
into Query) and `startBulkReset`, `cancelBulkReset` (mixed into Mutation)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from app.api.bulk_inputs import BulkResetSelectionInput, StartBulkResetInput, bad_request
from app.api.bulk_types import (
    BulkResetJob,
    BulkResetJobConnection,
    BulkResetPreview,
    CancelBulkResetPayload,
    StartBulkResetPayload,
)
from app.api.connections import page
from app.api.context import Info
from app.api.ids import require_id
from app.api.pagination import (
    DEFAULT_PAGE,
    AfterArg,
    FirstArg,
    check_first,
    decode_cursor,
    encode_cursor,
)
from app.api.payloads import INPUT
from app.api.permissions import requires
from app.api.results import user_errors
from app.api.types import AuditEvent
from app.domain.access import Capability
from app.domain.errors import BadRequest, Rejected

JobIdArg = Annotated[strawberry.ID, strawberry.argument(description="The job's global id.")]


@strawberry.type(description="Bulk reset reads.")
class BulkQuery:
    @strawberry.field(
        description="What a bulk reset over this selection would do now: how many users it "
        "would reset, who, and what it would skip and why. Changes nothing. A selection "
        "whose own text is wrong (not digits, not an email, over 10,000 entries) is a "
        "BAD_REQUEST naming each entry. (admin, helpdesk)",
        extensions=requires(Capability.PREVIEW_BULK_RESET),
    )
    async def preview_bulk_reset(
        self,
        info: Info,
        input: Annotated[
            BulkResetSelectionInput, strawberry.argument(description="The selection.")
        ],
    ) -> BulkResetPreview:
        selection = input.selection("input")
        try:
            resolution = await info.context.services.bulk.preview(selection)
        except Rejected as refusal:
            raise bad_request(refusal.problems, "input") from None
        return BulkResetPreview(_resolution=resolution)

    @strawberry.field(
        description="One bulk reset job by id; null when none has it. (admin, auditor)",
        extensions=requires(Capability.READ_BULK_RESETS),
    )
    async def bulk_reset_job(self, info: Info, id: JobIdArg) -> BulkResetJob | None:
        job = await info.context.services.bulk.job(require_id(id, "BulkResetJob", "id"))
        return BulkResetJob(_job=job) if job else None

    @strawberry.field(
        description="Bulk reset jobs, newest first. (admin, auditor)",
        extensions=requires(Capability.READ_BULK_RESETS),
    )
    async def bulk_reset_jobs(
        self, info: Info, first: FirstArg = DEFAULT_PAGE, after: AfterArg = None
    ) -> BulkResetJobConnection:
        size = check_first(first)
        key = decode_cursor(after, "bulkJobs", 1)
        if key is not None and not isinstance(key[0], str):
            raise BadRequest("`after` is not a cursor returned by this list.")
        jobs, more = await info.context.services.bulk.jobs(size, key[0] if key else None)
        edges, page_info = page(
            ((encode_cursor("bulkJobs", [j.id]), BulkResetJob(_job=j)) for j in jobs), more, after
        )
        return BulkResetJobConnection(edges=edges, page_info=page_info)


@strawberry.type(description="Bulk reset changes.")
class BulkMutation:
    @strawberry.mutation(
        description="Start a bulk reset job: every selected user's conference ID is reset, "
        "one after another in the background, each exactly as `resetConferenceId` would "
        "(same rules, a RESET audit entry carrying the job's `incidentId`, the same email), "
        "paced so that other requests stay quick. The job survives a crash or restart: "
        "another confid process (or the restarted one) resumes it once its lease expires, and "
        "no user is reset twice. A refused start writes a REJECTED BULK_RESET_STARTED entry. "
        "(admin)",
        extensions=requires(Capability.RUN_BULK_RESET),
    )
    async def start_bulk_reset(
        self,
        info: Info,
        input: Annotated[StartBulkResetInput, strawberry.argument(description="What to do.")],
    ) -> StartBulkResetPayload:
        ctx = info.context
        selection = input.selection.selection("input.selection")
        if input.expected_count is not None and input.expected_count < 0:
            raise BadRequest("`input.expectedCount` is a preview's `count`: 0 or more.")
        outcome = await asyncio.shield(
            ctx.services.bulk.start(
                ctx.request_meta(),
                selection,
                input.reason,
                input.send_email,
                input.idempotency_key,
                expected_count=input.expected_count,
            )
        )
        return StartBulkResetPayload(
            job=BulkResetJob(_job=outcome.job) if outcome.job else None,
            audit_event=AuditEvent.of(outcome.audit_event) if outcome.audit_event else None,
            user_errors=user_errors(outcome.problems, INPUT),
            replayed=outcome.replayed,
        )

    @strawberry.mutation(
        description="Stop a bulk reset job before its next user (users already reset stay "
        "reset). A queued job, or one whose process has stopped, ends CANCELLED at once. A "
        "job that has ended is refused with JOB_FINISHED: an ended job never runs again. "
        "(admin)",
        extensions=requires(Capability.RUN_BULK_RESET),
    )
    async def cancel_bulk_reset(self, info: Info, id: JobIdArg) -> CancelBulkResetPayload:
        ctx = info.context
        job, problems = await asyncio.shield(
            ctx.services.bulk.cancel(ctx.request_meta(), require_id(id, "BulkResetJob", "id"))
        )
        return CancelBulkResetPayload(
            job=BulkResetJob(_job=job) if job else None, user_errors=user_errors(problems)
        )

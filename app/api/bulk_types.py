"""Bulk reset types: the preview, the job (a `Node`), its results, and the payloads of
`startBulkReset` and `cancelBulkReset` (the inputs: `app.api.bulk_inputs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.api import enums
from app.api.connections import Connection, page
from app.api.context import Info
from app.api.ids import encode_id
from app.api.pagination import (
    DEFAULT_PAGE,
    AfterArg,
    FirstArg,
    check_first,
    decode_cursor,
    encode_cursor,
)
from app.api.permissions import requires
from app.api.results import UserError
from app.api.types import Actor, AuditEvent, Node, User
from app.domain import bulk
from app.domain.access import Capability
from app.domain.errors import BadRequest
from app.domain.models import User as UserRecord

LIST_MAX = 10_000
LIST_DEFAULT = 100


def list_size(first: int) -> int:
    if not 1 <= first <= LIST_MAX:
        raise BadRequest(f"`first` must be between 1 and {LIST_MAX:,}; it was {first}.")
    return first


FirstOfList = Annotated[
    int, strawberry.argument(description="How many to list, 1-10,000 (default 100).")
]


@strawberry.type(description="A selected conference ID or user that a bulk reset skips, and why.")
class BulkResetSkip:
    selector: str = strawberry.field(
        description="What was selected: the conference ID, email address or user id as given "
        "(for a bridge or search selection, the user's email)."
    )
    reason: enums.BulkResetSkipReason = strawberry.field(description="Why it is skipped.")
    message: str = strawberry.field(description="Why, in words for a person.")
    _user: strawberry.Private[UserRecord | None]

    @strawberry.field(
        description="The user concerned, when there is one: a user not enabled, or the last "
        "holder of an ID that is already retired. Who held a retired ID is history, which "
        "only roles that read the audit trail see: null for them otherwise (helpdesk)."
    )
    def user(self, info: Info) -> User | None:
        if self._user is None:
            return None
        principal = info.context.principal
        history = self.reason is bulk.SkipReason.ALREADY_RETIRED
        if history and (principal is None or not principal.may(Capability.READ_AUDIT)):
            return None
        return User(_user=self._user)

    @classmethod
    def of(cls, skip: bulk.Skip) -> BulkResetSkip:
        return cls(
            selector=skip.selector, reason=skip.reason, message=skip.message, _user=skip.user
        )


@strawberry.type(
    description="What a bulk reset over a selection would do now; nothing was changed. A job "
    "started later resolves the selection again, at that moment."
)
class BulkResetPreview:
    _resolution: strawberry.Private[bulk.Resolution]

    @strawberry.field(description="How many users would be reset.")
    def count(self) -> int:
        return len(self._resolution.users)

    @strawberry.field(description="How many selected IDs or users would be skipped.")
    def skipped_count(self) -> int:
        return len(self._resolution.skipped)

    @strawberry.field(description="The users that would be reset, in the order a job resets them.")
    def users(self, first: FirstOfList = LIST_DEFAULT) -> list[User]:
        return [User(_user=u) for u in self._resolution.users[: list_size(first)]]

    @strawberry.field(description="What would be skipped, and why, in the order selected.")
    def skipped(self, first: FirstOfList = LIST_DEFAULT) -> list[BulkResetSkip]:
        return [BulkResetSkip.of(s) for s in self._resolution.skipped[: list_size(first)]]


@strawberry.type(
    description="One line of a bulk reset's result list: a user, or a skipped selector."
)
class BulkResetResult:
    _item: strawberry.Private[bulk.BulkItem]

    @strawberry.field(
        description="Position in the job: its users first (in the order they are reset), "
        "then the skipped selectors."
    )
    def index(self) -> int:
        return self._item.index

    @strawberry.field(
        description="What happened: PENDING until the job reaches it; NOT_RUN when the job "
        "ended (cancelled or failed) before it did."
    )
    def outcome(self) -> enums.BulkResetOutcome:
        return self._item.outcome

    @strawberry.field(
        description="What selected this line: the conference ID, email address or user id as "
        "given (for a bridge or search selection, the user's email)."
    )
    def selector(self) -> str | None:
        return self._item.selector

    @strawberry.field(description="The user (null for an unknown ID or user).")
    async def user(self, info: Info) -> User | None:
        if self._item.user_id is None:
            return None
        user = await info.context.users.load(self._item.user_id)
        return User(_user=user) if user else None

    @strawberry.field(description="SKIPPED: why.")
    def skip_reason(self) -> enums.BulkResetSkipReason | None:
        return self._item.skip_reason

    @strawberry.field(description="FAILED: why the reset was refused (as in its audit entry).")
    def error_codes(self) -> list[enums.UserErrorCode]:
        return list(self._item.error_codes)

    @strawberry.field(description="RESET: the conference ID that was retired.")
    def previous_conference_id(self) -> str | None:
        return self._item.previous_conference_id

    @strawberry.field(description="RESET: the new conference ID.")
    def new_conference_id(self) -> str | None:
        return self._item.new_conference_id

    @strawberry.field(
        description="RESET or FAILED: the user's audit entry (RESET, carrying the job's "
        "incident id). (admin, auditor)",
        extensions=requires(Capability.READ_AUDIT),
    )
    async def audit_event(self, info: Info) -> AuditEvent | None:
        sequence = self._item.audit_sequence
        if sequence is None:
            return None
        entry = await info.context.audit_events.load(sequence)
        return AuditEvent.of(entry) if entry else None


@strawberry.type(description="A page of a bulk reset's result list, in position order.")
class BulkResetResultConnection(Connection[BulkResetResult]):
    total_count: int = strawberry.field(description="How many lines match (all pages together).")


@strawberry.type(
    description="A bulk reset job: one incident. Every user it resets gets a RESET audit "
    "entry carrying its `incidentId`, between a BULK_RESET_STARTED and a "
    "BULK_RESET_FINISHED entry."
)
class BulkResetJob(Node):
    _job: strawberry.Private[bulk.BulkJob]

    @strawberry.field(description="Opaque global id of the job.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("BulkResetJob", self._job.id))

    @strawberry.field(
        description="The incident id every audit entry of the job carries (filter "
        "`auditEvents(incidentId:)` or the export with it)."
    )
    def incident_id(self) -> str:
        return self._job.incident_id

    @strawberry.field(description="Where the job is in its life.")
    def status(self) -> enums.BulkResetStatus:
        return self._job.status

    @strawberry.field(description="How many users the job resets (the selection, less skips).")
    def total(self) -> int:
        return self._job.total

    @strawberry.field(description="How many users have been reset so far.")
    def done(self) -> int:
        return self._job.done

    @strawberry.field(description="How many users' resets were refused (see `results`).")
    def failed(self) -> int:
        return self._job.failed

    @strawberry.field(description="How many selected IDs or users were skipped at the start.")
    def skipped(self) -> int:
        return self._job.skipped

    @strawberry.field(description="`done` + `failed`: how far the job has got, out of `total`.")
    def processed(self) -> int:
        return self._job.processed

    @strawberry.field(description="Why the job was started (in every audit entry of it).")
    def reason(self) -> str:
        return self._job.reason

    @strawberry.field(description="Whether each reset user is sent CONFERENCE_ID_CHANGED.")
    def send_email(self) -> bool:
        return self._job.send_email

    @strawberry.field(description="Who started the job (the actor of its audit entries).")
    def created_by(self) -> Actor:
        return Actor.of(self._job.created_by)

    @strawberry.field(description="When the job was started.")
    def created_at(self) -> datetime:
        return self._job.created_at

    @strawberry.field(description="When a worker first began it.")
    def started_at(self) -> datetime | None:
        return self._job.started_at

    @strawberry.field(description="When it ended (SUCCEEDED, FAILED or CANCELLED).")
    def finished_at(self) -> datetime | None:
        return self._job.finished_at

    @strawberry.field(description="True once `cancelBulkReset` asked it to stop.")
    def cancel_requested(self) -> bool:
        return self._job.cancel_requested

    @strawberry.field(description="FAILED: where and why it stopped.")
    def error(self) -> str | None:
        return self._job.error

    @strawberry.field(
        description="The result list: each user (and skipped selector) and its fate. Reading "
        "it is recorded in the audit access log."
    )
    async def results(
        self,
        info: Info,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
        outcome: Annotated[
            enums.BulkResetOutcome | None, strawberry.argument(description="Only this outcome.")
        ] = None,
    ) -> BulkResetResultConnection:
        size = check_first(first)
        # The result list repeats what the trail says of each user: its reads are logged.
        info.context.note_audit_read("bulkResetResults", {"jobId": self._job.id})
        key = decode_cursor(after, "bulkResults", 1)
        position = key[0] if key else None
        if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
            raise BadRequest("`after` is not a cursor returned by this list.")
        bulk_resets = info.context.services.bulk
        items, more = await bulk_resets.results(self._job.id, size, position, outcome)
        edges, page_info = page(
            ((encode_cursor("bulkResults", [i.index]), BulkResetResult(_item=i)) for i in items),
            more,
            after,
        )
        return BulkResetResultConnection(
            edges=edges,
            page_info=page_info,
            total_count=await bulk_resets.count_results(self._job.id, outcome),
        )


@strawberry.type(description="A page of bulk reset jobs, newest first.")
class BulkResetJobConnection(Connection[BulkResetJob]):
    pass


@strawberry.type(description="Result of `startBulkReset`.")
class StartBulkResetPayload:
    job: BulkResetJob | None = strawberry.field(
        description="The job, QUEUED (a worker starts it at once); follow it with "
        "`bulkResetJob(id:)`."
    )
    audit_event: AuditEvent | None = strawberry.field(
        description="The BULK_RESET_STARTED entry (REJECTED, with codes, when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")
    replayed: bool = strawberry.field(
        description="True when this is the job an earlier request with the same "
        "`idempotencyKey` started; no new job was started."
    )


@strawberry.type(description="Result of `cancelBulkReset`.")
class CancelBulkResetPayload:
    job: BulkResetJob | None = strawberry.field(
        description="The job as it is now: CANCELLED when it was queued (or its process had "
        "stopped), otherwise still RUNNING with `cancelRequested` until it stops before its "
        "next user."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")

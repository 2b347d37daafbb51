"""Bulk resets: what a job selects, the states of a job and of each user in it, and the
deterministic operation ids that make every selected user's reset happen exactly once.

A job resets each selected user through the ordinary change path under the operation id
`user_operation_id(job, user, epoch)`, where the epoch counts the times the job's lease
was taken. The audit trail keeps one entry per operation id (a unique index), and a
change in flight carries its operation id in the user's lock; so whoever takes a job
over after a crash can tell, for the one user it stopped at, whether an earlier holder's
reset of that user is over (an entry exists), in flight (a lock holds the id) or never
began (neither), and replays, waits for (or repairs), or runs it -- never a second reset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from app.domain.errors import Problem, UserErrorCode
from app.domain.models import Actor, RequestMeta, User
from app.domain.policy import ASCII_DIGITS, email_problems

MAX_SELECTORS = 10_000  # conference IDs + user ids + emails in one selection
MAX_JOB_USERS = 100_000  # users one job may reset (a bridge or a search may name many)
CONFERENCE_ID_SELECTOR_MAX = 32
USER_ID_SELECTOR_MAX = 200
SEARCH_MAX = 200
PROBLEMS_SHOWN = 50  # at most this many selector problems are reported, then a count


class JobStatus(Enum):
    """Where a bulk reset job is in its life."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        """True for the end states: such a job never runs again."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class SkipReason(Enum):
    """Why a selected ID or user is not reset."""

    NOT_ENABLED = "NOT_ENABLED"
    UNKNOWN_ID = "UNKNOWN_ID"
    UNKNOWN_USER = "UNKNOWN_USER"
    ALREADY_RETIRED = "ALREADY_RETIRED"


SKIP_WORDS = {
    SkipReason.NOT_ENABLED: "not enabled for audio conferencing: there is no conference ID "
    "to reset",
    SkipReason.UNKNOWN_ID: "no user holds this conference ID and it was never assigned",
    SkipReason.UNKNOWN_USER: "no user has this email address or id",
    SkipReason.ALREADY_RETIRED: "this conference ID is already retired: it reaches nobody "
    "(its last holder was given another ID)",
}


class ItemOutcome(Enum):
    """What happened to one selected user (or selector) of a job."""

    PENDING = "PENDING"
    RESET = "RESET"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    NOT_RUN = "NOT_RUN"  # the job ended (cancelled or failed) before this user


@dataclass(frozen=True, slots=True)
class Selection:
    """Which users a bulk reset is about; the parts add up (a union), duplicates count once.

    `conference_ids` are leaked IDs (resolved to whoever holds them now, on any bridge);
    `user_ids` stored ids, and `given_user_ids` the same ids as the caller wrote them
    (global ids; empty when they are the stored ids), which name them in the results;
    `emails` addresses (any case); `bridge_id` every user enabled on that bridge; `search`
    every user whose name or email contains the text.
    """

    conference_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    bridge_id: str | None = None
    search: str | None = None
    given_user_ids: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        conference_ids: list[str] | None = None,
        user_ids: list[str] | None = None,
        emails: list[str] | None = None,
        bridge_id: str | None = None,
        search: str | None = None,
        given_user_ids: list[str] | None = None,
    ) -> Selection:
        """A selection with duplicates dropped (first occurrence kept) and a blank search
        treated as none. `given_user_ids`, when given, are `user_ids` as the caller wrote
        them, one for one."""
        stored = list(user_ids or ())
        pairs: dict[str, str] = {}  # stored id -> as first written
        given = stored if given_user_ids is None else given_user_ids
        for stored_id, named_as in zip(stored, given, strict=True):
            pairs.setdefault(stored_id, named_as)
        return cls(
            conference_ids=tuple(dict.fromkeys(conference_ids or ())),
            user_ids=tuple(pairs),
            emails=tuple(dict.fromkeys(emails or ())),
            bridge_id=bridge_id,
            search=search if search and search.strip() else None,
            given_user_ids=tuple(pairs.values()) if given_user_ids is not None else (),
        )

    def named_user_ids(self) -> list[tuple[str, str]]:
        """(stored id, the id as the caller wrote it) for each of `user_ids`."""
        return list(zip(self.user_ids, self.given_user_ids or self.user_ids, strict=True))

    @property
    def selectors(self) -> int:
        """How many listed selectors it has (IDs, ids and emails)."""
        return len(self.conference_ids) + len(self.user_ids) + len(self.emails)

    @property
    def empty(self) -> bool:
        return not self.selectors and self.bridge_id is None and self.search is None

    def problems(self) -> list[Problem]:
        """What is wrong with the selection's own text; field paths are relative to it."""
        if self.empty:
            return [
                Problem(
                    UserErrorCode.NOTHING_TO_RESET,
                    "Select someone: give conferenceIds, userIds, emails, bridgeId or search.",
                )
            ]
        if self.selectors > MAX_SELECTORS:
            return [
                Problem(
                    UserErrorCode.TOO_LONG,
                    f"A selection may list at most {MAX_SELECTORS:,} conference IDs, user ids "
                    f"and emails together; this one lists {self.selectors:,}. Split it into "
                    "several jobs.",
                )
            ]
        problems: list[Problem] = []
        for number, conference_id in enumerate(self.conference_ids):
            field = ("conferenceIds", str(number))
            if len(conference_id) > CONFERENCE_ID_SELECTOR_MAX:
                problems.append(
                    Problem(
                        UserErrorCode.TOO_LONG,
                        f"A conference ID has at most {CONFERENCE_ID_SELECTOR_MAX} digits.",
                        field,
                    )
                )
            elif not conference_id or not set(conference_id) <= ASCII_DIGITS:
                problems.append(
                    Problem(
                        UserErrorCode.INVALID_CHARACTERS,
                        f"{_shown(conference_id)} is not a conference ID: only the digits 0-9 "
                        "(remove spaces, dashes and a trailing #).",
                        field,
                    )
                )
        for number, user_id in enumerate(self.user_ids):
            if not user_id or len(user_id) > USER_ID_SELECTOR_MAX:
                problems.append(
                    Problem(
                        UserErrorCode.TOO_LONG,
                        f"A user id has 1 to {USER_ID_SELECTOR_MAX} characters.",
                        ("userIds", str(number)),
                    )
                )
        for number, email in enumerate(self.emails):
            problems += email_problems(email, ("emails", str(number)))
        if self.search is not None and len(self.search) > SEARCH_MAX:
            problems.append(
                Problem(
                    UserErrorCode.TOO_LONG,
                    f"`search` may have at most {SEARCH_MAX} characters.",
                    ("search",),
                )
            )
        if len(problems) > PROBLEMS_SHOWN:
            hidden = len(problems) - PROBLEMS_SHOWN
            more = Problem(problems[PROBLEMS_SHOWN].code, f"... and {hidden:,} more like these.")
            problems = [*problems[:PROBLEMS_SHOWN], more]
        return problems

    def fingerprint_parts(self) -> list[object]:
        """What the selection asks for, as JSON-able values (for idempotency digests)."""
        return [
            list(self.conference_ids),
            list(self.user_ids),
            [e.casefold() for e in self.emails],
            self.bridge_id,
            self.search,
        ]


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


@dataclass(frozen=True, slots=True)
class Skip:
    """A selector that resets nobody, and why; `user` when one is known (a not-enabled
    user, or the last holder of a retired ID)."""

    selector: str
    reason: SkipReason
    user: User | None = None

    @property
    def message(self) -> str:
        return SKIP_WORDS[self.reason]


@dataclass(frozen=True, slots=True)
class Resolution:
    """A selection resolved against the directory now: who would be reset, in the order a
    job works through them (by user id), and what is skipped."""

    users: tuple[User, ...]
    skipped: tuple[Skip, ...]
    selected_by: Mapping[str, str]  # user id -> the selector that named the user first


@dataclass(frozen=True, slots=True)
class BulkJob:
    """A bulk reset job: what it resets, why, and how far it got.

    `next_index` is the position of the next user to reset (users 0..total-1 in the job's
    order); `done`, `failed` move with it in one update, so counts never drift from
    where the job stands. `ending` is the end status being written (the end entry may
    already be in the trail) before `status` takes it.
    """

    id: str
    incident_id: str
    status: JobStatus
    total: int
    done: int
    failed: int
    skipped: int
    reason: str
    send_email: bool
    meta: RequestMeta  # the start request: who, from where (every entry of the job says so)
    created_at: datetime
    next_index: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False
    cancel_meta: RequestMeta | None = None
    ending: JobStatus | None = None
    error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    epoch: int = 0  # how many times the lease was taken (each holder has its own)

    @property
    def created_by(self) -> Actor:
        return self.meta.actor

    @property
    def processed(self) -> int:
        """Users the job has finished with, reset or refused."""
        return self.done + self.failed


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One line of a job's result list: a user to reset (index < total) or a skipped
    selector (after them)."""

    job_id: str
    index: int
    outcome: ItemOutcome
    user_id: str | None = None
    selector: str | None = None
    skip_reason: SkipReason | None = None
    error_codes: tuple[UserErrorCode, ...] = ()
    audit_sequence: int | None = None
    previous_conference_id: str | None = None
    new_conference_id: str | None = None


def user_operation_id(job_id: str, user_id: str, epoch: int) -> str:
    """The operation id of one lease holder's reset of one user: any process can compute
    the ids every earlier holder used, and look each up in the trail and the locks.

    (Per holder rather than per job: a holder that was presumed dead but was only slow can
    then never touch the change of the holder that took over, which has another id.)"""
    digest = hashlib.sha256(f"{job_id}\x1f{user_id}\x1f{epoch}".encode()).hexdigest()
    return f"op_bulk_{digest[:32]}"


def started_operation_id(job_id: str) -> str:
    """The operation id of the job's BULK_RESET_STARTED entry (one per job)."""
    return f"op_bulk_{job_id}_started"


def finished_operation_id(job_id: str) -> str:
    """The operation id of the job's BULK_RESET_FINISHED entry (one per job)."""
    return f"op_bulk_{job_id}_finished"


def started_summary(total: int, skipped: int, send_email: bool) -> str:
    """What the start entry says about the job."""
    return f"QUEUED total={total} skipped={skipped} sendEmail={'true' if send_email else 'false'}"


def finished_summary(status: JobStatus, job: BulkJob) -> str:
    """What the end entry says about the job."""
    return (
        f"{status.value} total={job.total} reset={job.done} failed={job.failed} "
        f"skipped={job.skipped} notRun={job.total - job.processed}"
    )

"""The bulk reset worker: one per confid process, working through jobs under a lease.

A worker takes the oldest unfinished job whose lease is free or expired (one atomic
update, which also counts the job's epoch), then works through its users in the job's
order, each through the ordinary change path (`ChangeService.submit`, as
`resetConferenceId`) under the operation id `user_operation_id(job, user, epoch)`. After
each user it writes the user's result, then moves the job's position and counts and
extends its lease in one update that requires the lease still held and the position
unchanged; between users it pauses, to keep to the configured rate and to leave at least
half of the process to interactive requests however slow the database is (`pause_after`).

Exactly once, whatever the crash point. A worker only works on the user at the job's
position, and the position only moves once that user's change is over (its audit entry
written). So a worker that takes a job over -- after a crash, a restart or an expired
lease -- has one user to be careful about, the one at the position, and asks about it,
for the operation id of every earlier epoch and its own:
  - an audit entry with one of those ids exists: that reset is over (done or refused);
    it is counted from the entry, never run again;
  - a user's lock carries one of them: that change is in flight, in a process that may be
    alive or dead; the worker waits, and once the lock is older than the recovery grace
    period repairs it as recovery does (finishes or undoes it), then asks again;
  - neither: no reset of the user ever began (or it was undone); it is run, under this
    epoch's id.
So each selected user gets one reset, one audit entry and one email, whatever the point
at which a process dies. What this rests on is what every lease rests on: a worker
that renewed its lease does not stall, before it takes the user's lock, for longer than
the lease (`CONFID_BULK_RESET_LEASE_SECONDS`, longer than `CONFID_LOCK_WAIT_SECONDS`),
nor, once it holds the lock, for longer than the recovery grace period (which recovery
rests on already). A worker that did would reset its user a second time -- two entries,
two emails, but still consistent: its change has an id of its own, so it never touches
the change of the worker that took over.

Ending short (cancelled, or FAILED): the user at the position is looked at as above and
counted as its change came out, then every user still PENDING is marked NOT_RUN, before
the end entry and the end state are written; so an ended job's result list and counts
say what was done to each user. A cancel that finds that user's change in flight leaves
the job to a worker, which waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.bulk import BulkItem, BulkJob, ItemOutcome, JobStatus, user_operation_id
from app.domain.models import AuditAction, AuditOutcome
from app.domain.operation import ChangeRequest
from app.services.bulk_trail import IncidentTrail
from app.services.changes import ChangeService
from app.services.clock import Clock
from app.services.completion import Completion
from app.services.outbox import process_name
from app.services.outcomes import ChangeOutcome, OutcomeReader
from app.store.bulk_jobs import BulkJobRepository
from app.store.users import UserRepository

log = logging.getLogger("confid.bulk")

BATCH = 100  # user ids read ahead at a time
MAX_ATTEMPTS = 3  # unexpected errors on one user before the job is given up as FAILED


@dataclass(frozen=True, slots=True)
class Pacing:
    """How fast jobs run and how they are leased."""

    rate: float  # users per second per process; 0: no pause (but still yield) between users
    lease: timedelta  # how long a lease lasts unless renewed (renewed after every user)
    poll: float  # seconds between looks for work, and for a change in flight elsewhere


class LeaseLost(Exception):
    """Another process holds the job now: stop working on it, write nothing more."""


class BulkResetWorker:
    """Claims jobs and works through them (see the module docstring)."""

    def __init__(
        self,
        *,
        jobs: BulkJobRepository,
        changes: ChangeService,
        outcomes: OutcomeReader,
        users: UserRepository,
        completion: Completion,
        trail: IncidentTrail,
        clock: Clock,
        pacing: Pacing,
        owner: str | None = None,
    ) -> None:
        self._jobs = jobs
        self._changes = changes
        self._outcomes = outcomes
        self._users = users
        self._completion = completion
        self._trail = trail
        self._clock = clock
        self._pacing = pacing
        self.owner = owner or process_name()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._ahead: tuple[str, int, list[str]] = ("", 0, [])

    # --- running -------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now (a job was just started or cancelled in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the user under way, give the lease back, and leave `run_forever`."""
        self._stop.set()
        self._wake.set()

    async def run_forever(self) -> None:
        """Job after job until `stop`; a failing pass is logged and tried again later."""
        while not self._stop.is_set():
            worked = False
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("bulk reset pass failed; trying again in %.1f s", self._pacing.poll)
            if not worked:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._pacing.poll)

    async def run_once(self) -> bool:
        """Claim one job and work on it until it ends, the lease is lost or `stop`; False
        when there was nothing to claim."""
        if self._stop.is_set():
            return False
        job = await self._jobs.claim(self.owner, self._clock(), self._until())
        if job is None:
            return False
        try:
            await self._work(job)
        except LeaseLost:
            log.info("bulk reset %s: lease lost, another process carries on", job.id)
        except Exception:
            with contextlib.suppress(Exception):  # give it back: the first error is the one
                await self._jobs.release(job.id, self.owner)
            raise
        return True

    async def end_if_idle(self, job_id: str) -> None:
        """End a job that nobody works on now and that was asked to stop (a cancel of a
        queued job, or of one whose process died): claim its lease, end it. A job that a
        live worker holds is left to it; it stops before its next user."""
        owner = f"{self.owner}/cancel"  # never mistaken for this process's worker
        job = await self._jobs.claim(owner, self._clock(), self._until(), job_id=job_id)
        if job is None:
            return
        try:
            if (job.cancel_requested or job.ending is not None) and not (
                await self._in_flight(await self._position_ids(job))
            ):
                await self._end(job, JobStatus.CANCELLED, owner=owner)
            else:  # a change of its user is in flight: a worker ends it once that is over
                await self._jobs.release(job.id, owner)
        except LeaseLost:
            pass

    # --- one job ---------------------------------------------------------------------------

    def _until(self) -> datetime:
        return self._clock() + self._pacing.lease

    async def _work(self, claimed: BulkJob) -> None:
        # The start entry is written when the job is accepted; writing it again returns
        # that one, and covers a process that died between storing the job and the entry.
        await self._trail.started(claimed)
        if claimed.status is JobStatus.QUEUED and (
            claimed.cancel_requested or claimed.ending is not None
        ):
            await self._end(claimed, JobStatus.CANCELLED)  # cancelled before it ever ran
            return
        job = await self._jobs.start(claimed.id, self.owner, self._clock())
        if job is None:
            raise LeaseLost
        resuming = True  # the user at the position may have been under way elsewhere
        attempts = 0
        loop = asyncio.get_running_loop()
        while True:
            if job.ending is not None:
                await self._end(job, job.ending)
                return
            if job.next_index >= job.total:
                await self._end(job, JobStatus.SUCCEEDED)
                return
            if job.cancel_requested:
                await self._end(job, JobStatus.CANCELLED)
                return
            if self._stop.is_set():
                await self._jobs.release(job.id, self.owner)
                return
            index = job.next_index
            began = loop.time()
            try:
                user_id = await self._user_at(job, index)
                item = await self._reset(job, index, user_id, resuming)
            except LeaseLost:
                raise
            except Exception as exc:
                attempts += 1
                log.exception("bulk reset %s: user %d failed (attempt %d)", job.id, index, attempts)
                if attempts >= MAX_ATTEMPTS:
                    error = f"stopped at user {index + 1} of {job.total}: {type(exc).__name__}"
                    await self._end(job, JobStatus.FAILED, error)
                    return
                resuming = True  # whatever the failed attempt left is looked at again
                await asyncio.sleep(self._pacing.poll)
                job = await self._renewed(job)
                continue
            attempts = 0
            resuming = False
            await self._jobs.record_item(item)
            advanced = await self._jobs.advance(
                job.id, self.owner, index, item.outcome, self._until()
            )
            if advanced is None:
                raise LeaseLost
            job = advanced
            await self._pace(loop.time() - began)

    async def _user_at(self, job: BulkJob, index: int) -> str:
        """The user at `index`, read ahead in batches."""
        job_id, start, ids = self._ahead
        if job_id != job.id or not start <= index < start + len(ids):
            stop = min(index + BATCH, job.total)
            ids = await self._jobs.user_ids(job.id, index, stop)
            self._ahead = (job.id, index, ids)
            start = index
        return ids[index - start]

    async def _reset(self, job: BulkJob, index: int, user_id: str, resuming: bool) -> BulkItem:
        """Reset one user exactly once (see the module docstring), and say how it went."""
        ids = _operation_ids(job, user_id)
        if resuming:
            over = await self._earlier(job, ids, self.owner)
            if over is not None:
                return _item(job, index, user_id, over)
            # no reset of this user ever began (or it was undone): run it
        request = ChangeRequest(
            AuditAction.RESET,
            user_id,
            job.meta,
            ids[-1],
            send_email=job.send_email,
            reason=job.reason,
            incident_id=job.incident_id,
        )
        outcome = await self._changes.submit(request, None)
        return _item(job, index, user_id, outcome)

    async def _in_flight(self, operation_ids: list[str]) -> bool:
        """Whether a change under one of these operation ids still holds a user's lock
        (each is repaired first, as recovery would, once it is stale)."""
        held = False
        for operation_id in operation_ids:
            if await self._completion.repair_operation(operation_id):
                held |= await self._users.holder_by_operation(operation_id) is not None
        return held

    async def _earlier(
        self, job: BulkJob, operation_ids: list[str], owner: str
    ) -> ChangeOutcome | None:
        """How an earlier attempt at a user (under one of these ids) came out: waits while
        one is in flight in a process that may be alive, keeping the lease; None when none
        began (or it was undone)."""
        while await self._in_flight(operation_ids):
            await asyncio.sleep(self._pacing.poll)
            job = await self._renewed(job, owner)
        return await self._over(operation_ids)

    async def _position_ids(self, job: BulkJob) -> list[str]:
        """The operation ids every holder so far would have used for the user at the job's
        position (none when it is past its last user)."""
        if job.next_index >= job.total:
            return []
        return _operation_ids(job, await self._user_at(job, job.next_index))

    async def _settle(self, job: BulkJob, owner: str) -> BulkJob:
        """Before a job ends short of its last user: the user at its position may have
        been under way (in a process that died, or in an attempt that failed). Wait for
        that change and count it if it happened, so that the users after the position are
        exactly those the job did nothing to."""
        index = job.next_index
        if index >= job.total:
            return job
        user_id = await self._user_at(job, index)
        over = await self._earlier(job, _operation_ids(job, user_id), owner)
        if over is None:
            return job
        item = _item(job, index, user_id, over)
        await self._jobs.record_item(item)
        advanced = await self._jobs.advance(job.id, owner, index, item.outcome, self._until())
        if advanced is None:
            raise LeaseLost
        return advanced

    async def _over(self, operation_ids: list[str]) -> ChangeOutcome | None:
        """The outcome of whichever of these operations has an audit entry (a success over
        a refusal); None when none has."""
        found: ChangeOutcome | None = None
        for operation_id in operation_ids:
            outcome = await self._outcomes.replay(operation_id)
            if outcome is None or outcome.audit_event is None:
                continue
            if outcome.audit_event.outcome is AuditOutcome.SUCCESS:
                return outcome
            found = found or outcome
        return found

    async def _renewed(self, job: BulkJob, owner: str | None = None) -> BulkJob:
        renewed = await self._jobs.renew(job.id, owner or self.owner, self._until())
        if renewed is None:
            raise LeaseLost
        return renewed

    async def _pace(self, spent: float) -> None:
        """Pause between users (see `pause_after`); always yield to other requests."""
        await asyncio.sleep(0.0 if self._stop.is_set() else pause_after(spent, self._pacing.rate))

    async def _end(
        self,
        job: BulkJob,
        status: JobStatus,
        error: str | None = None,
        *,
        owner: str | None = None,
    ) -> None:
        """Fix the end status (unless fixed already); if the job ends short of its last
        user, count the user at its position as it came out and mark the users it never
        reached NOT_RUN; then write the end entry, then the end state. Each step may be
        repeated by whoever resumes after a crash."""
        owner = owner or self.owner
        ending = await self._jobs.begin_ending(job.id, owner, status, error)
        if ending is None or ending.ending is None:
            raise LeaseLost
        if ending.next_index < ending.total:
            ending = await self._settle(ending, owner)
            await self._jobs.mark_not_run(job.id)
        assert ending.ending is not None
        entry = await self._trail.finished(ending, ending.ending)
        if not await self._jobs.finish(job.id, owner, ending.ending, self._clock()):
            raise LeaseLost
        log.info("bulk reset %s ended: %s (audit entry #%d)", job.id, entry.summary, entry.sequence)


def pause_after(spent: float, rate: float) -> float:
    """How long to pause after a user that took `spent` seconds: enough to keep to `rate`
    users a second, and at least as long as that user took, so that a job never has more
    than half of the process however slow the database gets. Rate 0: no pause."""
    return max(1.0 / rate - spent, spent) if rate > 0 else 0.0


def _operation_ids(job: BulkJob, user_id: str) -> list[str]:
    """The operation ids of every lease holder's reset of this user, the current last."""
    return [user_operation_id(job.id, user_id, e) for e in range(1, job.epoch + 1)]


def _item(job: BulkJob, index: int, user_id: str, outcome: ChangeOutcome) -> BulkItem:
    """A user's result from the outcome of its change (run now, or read back)."""
    entry = outcome.audit_event
    refused = bool(outcome.problems) or (
        entry is not None and entry.outcome is AuditOutcome.REJECTED
    )
    codes = tuple(p.code for p in outcome.problems) or (entry.error_codes if entry else ())
    return BulkItem(
        job_id=job.id,
        index=index,
        outcome=ItemOutcome.FAILED if refused else ItemOutcome.RESET,
        user_id=user_id,
        error_codes=tuple(dict.fromkeys(codes)) if refused else (),
        audit_sequence=entry.sequence if entry else None,
        previous_conference_id=entry.previous_conference_id if entry else None,
        new_conference_id=None if refused or entry is None else entry.new_conference_id,
    )

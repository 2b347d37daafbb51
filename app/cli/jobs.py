"""`confid jobs list|show|cancel`: bulk reset jobs, and following one to its end.

JOB is a job's global id (as `confid bulk-reset` and `confid jobs list` print it) or its
incident id (`inc_...`), which is looked up in the job list.
"""

from __future__ import annotations

import time
from typing import Any

import click

from app.cli.errors import Refused
from app.cli.output import when
from app.cli.pages import fetch, more_hint, page_options
from app.cli.session import Session, connection_options, refusal

ENDED = {"SUCCEEDED", "FAILED", "CANCELLED"}
OUTCOMES = ("RESET", "FAILED", "SKIPPED", "PENDING", "NOT_RUN")
POLL_SECONDS = 0.5
RESULTS_PAGE = 100

JOB = click.argument("job", metavar="JOB")


def job_page(
    session: Session, job_id: str, *, first: int = 1, after: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """The job with one page of its results (BulkResetJob); None when there is no such job."""
    data = session.run(
        "BulkResetJob", {"jobId": job_id, "first": first, "after": after, "outcome": outcome}
    )
    job: dict[str, Any] | None = data["bulkResetJob"]
    return job


def resolve_job(session: Session, ref: str) -> str:
    """The global id of JOB: given as is, or found by its incident id."""
    if not ref.startswith("inc_"):
        return ref
    after = None
    while True:
        data = session.run("ListBulkResetJobs", {"first": 100, "after": after})
        connection = data["bulkResetJobs"]
        for edge in connection["edges"]:
            if edge["node"]["incidentId"] == ref:
                found: str = edge["node"]["id"]
                return found
        if not connection["pageInfo"]["hasNextPage"]:
            raise Refused(f"NOT_FOUND: no bulk reset job has the incident id {ref}")
        after = connection["pageInfo"]["endCursor"]


def require_job(session: Session, ref: str, job: dict[str, Any] | None) -> dict[str, Any]:
    if job is None:
        raise Refused(f"NOT_FOUND: no bulk reset job has the id {ref}")
    return job


def all_results(session: Session, job_id: str, outcome: str | None) -> list[dict[str, Any]]:
    """Every result line of one outcome (or all), page after page."""
    lines: list[dict[str, Any]] = []
    after = None
    while True:
        job = job_page(session, job_id, first=RESULTS_PAGE, after=after, outcome=outcome)
        if job is None:
            return lines
        connection = job["results"]
        lines += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return lines
        after = connection["pageInfo"]["endCursor"]


def follow_job(session: Session, job: dict[str, Any]) -> dict[str, Any]:
    """Poll the job until it ends, with a live bar on a terminal and a plain line on stderr
    per twentieth of the way otherwise; returns the job as it ended."""
    total = int(job["total"])
    shown = 0
    try:
        with session.output.progress(
            "resetting", "users", total=total, every=max(1, total // 20)
        ) as tracker:
            while True:
                current = require_job(session, job["id"], job_page(session, job["id"]))
                processed = int(current["processed"])
                if processed > shown:
                    tracker.advance(processed - shown)
                    shown = processed
                if current["status"] in ENDED:
                    return current
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        session.output.note(
            f"\nThe job goes on in confid. Follow it: confid jobs show {job['id']} --follow\n"
            f"Stop it: confid jobs cancel {job['id']}"
        )
        raise


# -- rendering ------------------------------------------------------------------------------


def _actor(actor: dict[str, Any]) -> str:
    return f"{actor['name']} ({actor['role'].lower()})"


def show_job(session: Session, job: dict[str, Any]) -> None:
    progress = f"{job['processed']}/{job['total']}: {job['done']} reset, {job['failed']} failed"
    pairs: list[tuple[str, str | int | None]] = [
        ("Job", job["id"]),
        ("Incident", job["incidentId"]),
        ("Status", job["status"] + (" (cancel requested)" if job["cancelRequested"] else "")),
        ("Progress", progress),
        ("Skipped", job["skipped"]),
        ("Reason", job["reason"]),
        ("Started by", _actor(job["createdBy"])),
        ("Emails", "sent to each user" if job["sendEmail"] else "not sent"),
        ("Created", when(job["createdAt"])),
        ("Started", when(job["startedAt"])),
        ("Finished", when(job["finishedAt"])),
    ]
    if job.get("error"):
        pairs.append(("Error", job["error"]))
    session.output.fields(pairs)


def show_results(session: Session, lines: list[dict[str, Any]], title: str) -> None:
    rows = []
    for line in lines:
        user = line.get("user") or {}
        if line["outcome"] == "SKIPPED":
            why = line["skipReason"]
        elif line["outcome"] == "FAILED":
            why = ",".join(line["errorCodes"])
        else:
            why = None
        rows.append(
            [
                line["index"] + 1,
                line["outcome"],
                user.get("displayName"),
                user.get("email"),
                line.get("selector"),
                line.get("previousConferenceId"),
                line.get("newConferenceId"),
                why,
            ]
        )
    session.output.table(
        ["#", "Outcome", "User", "Email", "Selected as", "Old ID", "New ID", "Why"],
        rows,
        title=title,
    )


def show_ending(session: Session, job: dict[str, Any]) -> None:
    """What a finished job did, with the lines that need a person's attention."""
    out = session.output
    out.line(
        f"Job {job['status']}: {job['done']} reset, {job['failed']} failed, "
        f"{job['skipped']} skipped, {job['total'] - job['processed']} not run "
        f"(incident {job['incidentId']})."
    )
    for outcome, title in (("FAILED", "Refused"), ("SKIPPED", "Skipped")):
        count = job["failed"] if outcome == "FAILED" else job["skipped"]
        if count:
            show_results(session, all_results(session, job["id"], outcome), f"{title} ({count})")
    if job["done"]:
        out.line(
            "The old IDs no longer work: meetings that carry them must be rescheduled. "
            f"The whole incident: confid audit events --incident {job['incidentId']}"
        )


# -- commands --------------------------------------------------------------------------------


@click.group(
    short_help="Bulk reset jobs: list, show, cancel.",
    epilog="""\b
Examples:
  confid jobs list
  confid jobs show inc_6b0f38cab9e9baef4ed8af65 --follow
  confid jobs show inc_6b0f38cab9e9baef4ed8af65 --outcome NOT_RUN --json
  confid jobs cancel inc_6b0f38cab9e9baef4ed8af65
`confid jobs COMMAND --help` shows each command's options and more examples.""",
)
def jobs() -> None:
    """Bulk reset jobs (started with `confid bulk-reset`): list, show, cancel.

    JOB is a job id, or its incident id (inc_...).
    """


@jobs.command(
    "list",
    epilog="""\b
Examples:
  confid jobs list
  confid jobs list --all --json
Admin and auditor. Newest first.""",
)
@page_options
@connection_options
def list_jobs(first: int | None, after: str | None, every_page: bool) -> None:
    """Bulk reset jobs, newest first, with status and progress (ListBulkResetJobs)."""
    session = Session.current()
    data = fetch(
        session,
        "ListBulkResetJobs",
        {},
        ("bulkResetJobs",),
        first=first,
        after=after,
        every_page=every_page,
        noun="jobs",
    )

    def render() -> None:
        connection = data["bulkResetJobs"]
        rows = [
            [
                job["incidentId"],
                job["status"],
                f"{job['processed']}/{job['total']}",
                job["failed"],
                job["skipped"],
                job["createdBy"]["name"],
                when(job["createdAt"]),
                job["reason"],
                job["id"],
            ]
            for job in (edge["node"] for edge in connection["edges"])
        ]
        session.output.table(
            ["Incident", "Status", "Done", "Failed", "Skipped", "By", "Created", "Reason", "Id"],
            rows,
            caption=more_hint(connection, "confid jobs list"),
        )

    session.emit_or(data, render)


@jobs.command(
    "show",
    epilog="""\b
Examples:
  confid jobs show QnVsa1Jlc2V0Sm9iOmpvYl82YjBm...
  confid jobs show inc_6b0f38cab9e9baef4ed8af65 --follow
  confid jobs show inc_6b0f38cab9e9baef4ed8af65 --outcome RESET --json
Admin and auditor. Exits 1 when no job has that id, and with --follow when the job
ended with users refused, or FAILED, or CANCELLED.""",
)
@JOB
@click.option("--follow", is_flag=True, help="Show progress until the job ends.")
@click.option(
    "--outcome",
    type=click.Choice(OUTCOMES, case_sensitive=False),
    help="List the lines with this outcome (default: the refused and skipped ones).",
)
@connection_options
def show(job: str, follow: bool, outcome: str | None) -> None:
    """One job: status, progress, and its refused and skipped lines (BulkResetJob).

    With --json: the job and every line of its result list (of --outcome, if given).
    """
    session = Session.current()
    job_id = resolve_job(session, job)
    current = require_job(session, job, job_page(session, job_id))
    if follow and current["status"] not in ENDED:
        if not session.json_mode:
            show_job(session, current)
        current = follow_job(session, current)
    elif not session.json_mode:
        show_job(session, current)
    if session.json_mode:
        lines = all_results(session, job_id, outcome.upper() if outcome else None)
        session.output.emit({"bulkResetJob": {**current, "results": lines}})
    elif outcome:
        lines = all_results(session, job_id, outcome.upper())
        show_results(session, lines, f"{outcome.upper()} ({len(lines)})")
    elif current["status"] in ENDED:
        show_ending(session, current)
    if follow:
        raise_for_ending(current)


def raise_for_ending(job: dict[str, Any]) -> None:
    """Exit 1 unless every user of the job was reset."""
    if job["status"] == "SUCCEEDED" and not job["failed"]:
        return
    if job["status"] == "SUCCEEDED":
        raise Refused(f"{job['failed']} of {job['total']} resets were refused (listed above)")
    raise Refused(
        f"the job ended {job['status']}: {job['total'] - job['processed']} users not run "
        "(nothing was changed for them)"
    )


@jobs.command(
    "cancel",
    epilog="""\b
Examples:
  confid jobs cancel inc_6b0f38cab9e9baef4ed8af65
  confid jobs cancel QnVsa1Jlc2V0Sm9iOmpvYl82YjBm... --json
Admin only. Users already reset stay reset. Exits 1 when the job has already ended
(JOB_FINISHED: an ended job never runs again) or does not exist.""",
)
@JOB
@connection_options
def cancel(job: str) -> None:
    """Stop a job before its next user (CancelBulkReset)."""
    session = Session.current()
    data = session.run("CancelBulkReset", {"jobId": resolve_job(session, job)})
    payload = data["cancelBulkReset"]
    if payload["userErrors"]:
        if session.json_mode:
            session.output.emit(data)
        raise refusal(payload["userErrors"])

    def render() -> None:
        current = payload["job"]
        if current["status"] == "CANCELLED":
            session.output.line(
                f"Job cancelled after {current['processed']} of {current['total']} users."
            )
        else:
            session.output.line(
                f"Cancel requested: the job stops before its next user "
                f"({current['processed']} of {current['total']} done so far). "
                f"confid jobs show {current['id']} --follow"
            )

    session.emit_or(data, render)

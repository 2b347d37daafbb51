"""`confid bulk-reset`: respond to a leak -- preview, confirm, start a job, follow it.

Where Teams has administrators loop `Set-CsOnlineDialInConferencingUser -ResetConferenceId`
over a list (and its `-WhatIf` is not implemented), this shows what would happen first,
then resets everyone as one audited incident that survives a restart of confid.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import click

from app.cli.bridges import resolve_bridge
from app.cli.errors import Refused, UsageError
from app.cli.jobs import all_results, follow_job, raise_for_ending, show_ending
from app.cli.session import Session, connection_options

PREVIEW_ROWS = 20  # users shown in the preview table (all of them with --json)
LIST_MAX = 10_000
_IGNORED = str.maketrans("", "", " \t-.")


def read_ids(source: IO[str]) -> list[str]:
    """Conference IDs, one a line: spaces, dashes, dots and a trailing # are dropped (as
    IDs are often written: `482 1395#`); blank lines and lines starting with # are skipped."""
    ids: list[str] = []
    for number, raw in enumerate(source, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        conference_id = text.removesuffix("#").translate(_IGNORED)
        if not conference_id.isascii() or not conference_id.isdigit():
            raise UsageError(f"{source.name}:{number}: {text!r} is not a conference ID")
        ids.append(conference_id)
    return ids


def read_users(source: IO[str]) -> tuple[list[str], list[str]]:
    """Users, one a line: an email address (has an @) or a user id; blank lines and lines
    starting with # are skipped. Returns (emails, ids)."""
    emails: list[str] = []
    ids: list[str] = []
    for raw in source:
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        (emails if "@" in text else ids).append(text)
    return emails, ids


def _selection(
    session: Session, ids_file: IO[str] | None, users_file: IO[str] | None, bridge: str | None
) -> dict[str, Any]:
    given = [x for x in (ids_file, users_file, bridge) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of --ids-file, --users-file and --bridge")
    if ids_file is not None:
        ids = read_ids(ids_file)
        if not ids:
            raise UsageError(f"{ids_file.name} lists no conference ID")
        selection: dict[str, Any] = {"conferenceIds": ids}
    elif users_file is not None:
        emails, user_ids = read_users(users_file)
        if not emails and not user_ids:
            raise UsageError(f"{users_file.name} lists no user")
        selection = {"emails": emails or None, "userIds": user_ids or None}
    else:
        assert bridge is not None
        selection = {"bridgeId": resolve_bridge(session, bridge)["id"]}
    selectors = sum(len(v) for v in selection.values() if isinstance(v, list))
    if selectors > LIST_MAX:
        raise UsageError(
            f"{selectors:,} entries: one job takes at most {LIST_MAX:,}; split the file"
        )
    return {k: v for k, v in selection.items() if v is not None}


def show_preview(session: Session, preview: dict[str, Any]) -> None:
    out = session.output
    users, skipped = preview["users"], preview["skipped"]
    out.line(f"Would reset {preview['count']} users; {preview['skippedCount']} skipped.")
    if users:
        rows = [
            [
                u["displayName"],
                u["email"],
                (u.get("audioConferencing") or {}).get("conferenceId"),
            ]
            for u in users[:PREVIEW_ROWS]
        ]
        more = preview["count"] - len(rows)
        out.table(
            ["Name", "Email", "Conference ID"],
            rows,
            title="To reset",
            caption=f"... and {more} more" if more > 0 else None,
        )
    if skipped:
        out.table(
            ["Selected as", "Why", "User"],
            [
                [
                    s["selector"],
                    f"{s['reason']}: {s['message']}",
                    (s.get("user") or {}).get("email"),
                ]
                for s in skipped
            ],
            title="Skipped",
        )


def _confirm(session: Session, count: int, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not a terminal, so nobody can confirm: pass --yes to start the job")
    question = (
        f"Reset the conference IDs of {count} users now? Their current IDs stop working at "
        "once and every meeting that carries one must be rescheduled"
    )
    if not click.confirm(question, default=False, err=True):
        raise Refused("not started: the reset was not confirmed")


@click.command(
    "bulk-reset",
    short_help="Reset many users' IDs as one incident (preview first).",
    epilog="""\b
Examples:
  confid bulk-reset --ids-file leaked-ids.txt --reason "INC-4711: invite forwarded" --dry-run
  confid bulk-reset --ids-file leaked-ids.txt --reason "INC-4711: invite forwarded"
  confid bulk-reset --users-file people.txt --reason "Spreadsheet leaked" --yes --json
  confid bulk-reset --bridge "Contoso Audio Conferencing" --reason "Yearly rotation" --yes
\b
--ids-file: leaked conference IDs, one a line (`482 1395#` reads as 4821395).
--users-file: email addresses or user ids, one a line. FILE may be - for stdin.
Lines starting with # are comments. At most 10,000 entries.
\b
Shows the preview (who would be reset, what is skipped and why), asks to confirm (unless
--yes; without a terminal --yes is required; with nobody to reset there is nothing to
confirm, and confid's NOTHING_TO_RESET refusal is printed), starts the job with the
preview's count (confid refuses SELECTION_CHANGED should the selection reach another
number of users by then) and follows
it: a live bar on a terminal, a plain line per twentieth otherwise. Ctrl-C stops
following, not the job. Exits 0 when every selected user was reset; 1 when some were
refused, nothing would be reset, the job was cancelled or failed, or it was not
confirmed. Admin only (the preview:
admin and helpdesk).""",
)
@click.option(
    "--ids-file", type=click.File("r", encoding="utf-8"), metavar="FILE",
    help="Leaked conference IDs, one a line.",
)  # fmt: skip
@click.option(
    "--users-file", type=click.File("r", encoding="utf-8"), metavar="FILE",
    help="Users (emails or ids), one a line.",
)  # fmt: skip
@click.option("--bridge", metavar="BRIDGE", help="Every user on this bridge (id or name).")
@click.option(
    "--reason", metavar="TEXT",
    help="Why (required unless --dry-run; at most 500 characters); kept in every audit entry "
    "of the incident.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Show the preview only; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Start without asking for confirmation.")
@click.option(
    "--send-email/--no-send-email", default=None,
    help="Email each user the new ID (default: the tenant setting).",
)  # fmt: skip
@click.option(
    "--idempotency-key", metavar="KEY",
    help="Up to 100 characters: running the command again with the same key follows the "
    "job the first run started instead of starting another.",
)  # fmt: skip
@click.option("--detach", is_flag=True, help="Start the job and return without following it.")
@connection_options
def bulk_reset(
    ids_file: IO[str] | None,
    users_file: IO[str] | None,
    bridge: str | None,
    reason: str | None,
    dry_run: bool,
    yes: bool,
    send_email: bool | None,
    idempotency_key: str | None,
    detach: bool,
) -> None:
    """Reset the conference IDs of many users as one incident: leaked IDs, a list of
    users, or a whole bridge (PreviewBulkReset, StartBulkReset, BulkResetJob)."""
    session = Session.current()
    if not dry_run and not (reason or "").strip():
        raise UsageError("--reason is required to start a job (it is kept in the audit trail)")
    selection = _selection(session, ids_file, users_file, bridge)
    data = session.run("PreviewBulkReset", {"selection": selection, "first": LIST_MAX})
    preview = data["previewBulkReset"]
    if dry_run:
        session.emit_or(data, lambda: show_preview(session, preview))
        return
    if not session.json_mode:
        show_preview(session, preview)
    if preview["count"]:
        _confirm(session, preview["count"], yes)
    # With nobody to reset there is nothing to confirm: confid is asked all the same, with
    # the preview's count, so it refuses in its own words (NOTHING_TO_RESET, recorded in the
    # trail), or SELECTION_CHANGED should the selection reach someone by now.
    started = session.mutate(
        "StartBulkReset",
        "startBulkReset",
        {
            "selection": selection,
            "reason": reason,
            "sendEmail": send_email,
            "idempotencyKey": idempotency_key,
            "expectedCount": preview["count"],  # what was confirmed
        },
    )
    payload = started["startBulkReset"]
    job = payload["job"]
    if not session.json_mode:
        again = " (started earlier with this idempotency key)" if payload["replayed"] else ""
        session.output.line(
            f"Started job {job['id']}{again} (incident {job['incidentId']}, "
            f"{job['total']} users; audit entry #{payload['auditEvent']['sequence']})"
        )
    if detach:
        session.emit_or(
            started,
            lambda: session.output.line(f"Follow it: confid jobs show {job['id']} --follow"),
        )
        return
    ended = follow_job(session, job)
    if session.json_mode:
        lines = all_results(session, job["id"], None)
        session.output.emit({"bulkResetJob": {**ended, "results": lines}})
    else:
        show_ending(session, ended)
    raise_for_ending(ended)

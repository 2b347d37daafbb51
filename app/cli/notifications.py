"""`confid notifications list`: the recorded emails and their delivery status."""

from __future__ import annotations

import click

from app.cli.output import when
from app.cli.pages import fetch, more_hint, page_options
from app.cli.session import Session, connection_options
from app.cli.users import user_id
from app.domain.models import NotificationKind


@click.group(
    epilog="""\b
Examples:
  confid notifications list --user adele.garcia.22@contoso.example
  confid notifications list --kind CONFERENCE_INFO --all --json""",
)
def notifications() -> None:
    """The emails confid recorded (and sent), newest first."""


@notifications.command(
    "list",
    epilog="""\b
Examples:
  confid notifications list --user adele.garcia.22@contoso.example
  confid notifications list --kind CONFERENCE_ID_CHANGED --all --json
Admin and auditor.""",
)
@click.option("--user", metavar="USER", help="Only this user's emails (email address or id).")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in NotificationKind], case_sensitive=False),
    help="Only this kind of email.",
)
@page_options
@connection_options
def list_notifications(
    user: str | None, kind: str | None, first: int | None, after: str | None, every_page: bool
) -> None:
    """Recorded emails with status and the audit entry behind each (ListNotifications)."""
    session = Session.current()
    data = fetch(
        session,
        "ListNotifications",
        {
            "userId": user_id(session, user) if user else None,
            "kind": kind.upper() if kind else None,
        },
        ("notifications",),
        first=first,
        after=after,
        every_page=every_page,
        noun="emails",
    )
    connection = data["notifications"]
    session.emit_or(
        data,
        lambda: session.output.table(
            ["Created", "Kind", "Status", "To", "Conference ID", "User", "Audit #"],
            [
                [
                    when(n["createdAt"]),
                    n["kind"],
                    n["status"] + (f" ({n['error']})" if n.get("error") else ""),
                    ", ".join(n["to"]) + ("" if n["toPrimaryAddress"] else " (not primary)"),
                    n["conferenceId"],
                    (n.get("user") or {}).get("displayName"),
                    (n.get("auditEvent") or {}).get("sequence"),
                ]
                for n in (edge["node"] for edge in connection["edges"])
            ],
            caption=more_hint(connection, "confid notifications list"),
        ),
    )

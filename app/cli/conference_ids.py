"""`confid check` and `confid lookup`: questions about one conference ID that change nothing."""

from __future__ import annotations

import click

from app.cli.bridges import resolve_bridge
from app.cli.errors import Refused, UsageError
from app.cli.session import Session, connection_options, refusal
from app.cli.users import user_id


@click.command(
    "check",
    short_help="Would this ID be accepted?",
    epilog="""\b
Examples:
  confid check 4821395
  confid check 4821395 --user adele.garcia.22@contoso.example
  confid check 1212121 --bridge "Contoso Audio" --json
Exits 0 when the ID would be accepted, 1 when not (each broken rule is printed).""",
)
@click.argument("conference_id", metavar="CONFERENCE_ID")
@click.option("--user", "user", metavar="USER", help="Email address or user id.")
@click.option(
    "--bridge", metavar="BRIDGE", help="Bridge id or name, without --user (default bridge)."
)
@connection_options
def check(conference_id: str, user: str | None, bridge: str | None) -> None:
    """Would `confid user set` accept this ID? (CheckConferenceId)

    A dry run of the policy, writing nothing. With --user, for that user on their bridge;
    without, on a bridge: length, digits, weak patterns, in use by anyone, retired.
    """
    if user is not None and bridge is not None:
        raise UsageError("pass --user or --bridge, not both: a user's own bridge applies")
    session = Session.current()
    variables = {
        "conferenceId": conference_id,
        "userId": user_id(session, user) if user is not None else None,
        "bridgeId": resolve_bridge(session, bridge)["id"] if bridge is not None else None,
    }
    data = session.run("CheckConferenceId", variables)
    result = data["checkConferenceId"]
    if session.json_mode:
        session.output.emit(data)
    if not result["valid"]:
        raise refusal(result["errors"])
    if not session.json_mode:
        where = f"for {user}" if user is not None else f"on {bridge or 'the default bridge'}"
        session.output.line(f"{conference_id} would be accepted {where}.")


@click.command(
    "lookup",
    short_help="Who holds this conference ID?",
    epilog="""\b
Examples:
  confid lookup 2962964
  confid lookup 2962964 --bridge "Contoso Audio" --json
Admin and helpdesk. Exits 1 when nobody holds the ID (retired or never assigned).""",
)
@click.argument("conference_id", metavar="CONFERENCE_ID")
@click.option("--bridge", metavar="BRIDGE", help="Bridge id or name (default: the default bridge).")
@connection_options
def lookup(conference_id: str, bridge: str | None) -> None:
    """Who a caller entering this ID reaches: its active holder (LookupConferenceId)."""
    session = Session.current()
    bridge_id = resolve_bridge(session, bridge)["id"] if bridge else None
    data = session.run("LookupConferenceId", {"conferenceId": conference_id, "bridgeId": bridge_id})
    holder = data["lookupConferenceId"]
    if session.json_mode:
        session.output.emit(data)
    if holder is None:
        raise Refused(f"NOT_FOUND: nobody holds {conference_id}: it is retired or unknown")
    if not session.json_mode:
        session.output.fields(
            [
                ("Conference ID", holder["audioConferencing"]["conferenceId"]),
                ("Held by", holder["displayName"]),
                ("Email", holder["email"]),
                ("Id", holder["id"]),
            ]
        )

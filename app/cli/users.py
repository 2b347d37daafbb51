"""`confid user ...` and `confid users list`: the Get-/Set-CsOnlineDialInConferencingUser of confid.

USER is an email address (any case) or a user's global id; an email is resolved with the
`user(email:)` query first.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from app.cli.bridges import resolve_bridge
from app.cli.errors import Refused
from app.cli.output import when
from app.cli.pages import fetch, more_hint, page_options
from app.cli.session import Session, connection_options

USER = click.argument("user", metavar="USER")

F = TypeVar("F", bound=Callable[..., Any])


def find_user(session: Session, ref: str) -> dict[str, Any]:
    """GetUser by email (when `ref` has an @) or by id; the answer's data."""
    return session.run("GetUser", {"email": ref} if "@" in ref else {"id": ref})


def not_found(session: Session, data: dict[str, Any], ref: str) -> NoReturn:
    if session.json_mode:
        session.output.emit(data)
    what = "email" if "@" in ref else "id"
    raise Refused(f"NOT_FOUND: no user has the {what} {ref}")


def user_id(session: Session, ref: str) -> str:
    """The global id of USER; an email costs one query, an id is passed on as it is."""
    if "@" not in ref:
        return ref
    data = find_user(session, ref)
    if data["user"] is None:
        not_found(session, data, ref)
    identifier: str = data["user"]["id"]
    return identifier


def show_user(session: Session, user: dict[str, Any]) -> None:
    out = session.output
    audio = user.get("audioConferencing")
    pairs: list[tuple[str, str | int | None]] = [
        ("Name", user.get("displayName")),
        ("Email", user.get("email")),
        ("Id", user["id"]),
    ]
    if audio is None:
        pairs.append(("Conference ID", "not enabled for audio conferencing"))
    else:
        bridge = audio.get("bridge")
        pairs.append(("Conference ID", audio["conferenceId"]))
        if bridge:
            pairs.append(("Bridge", f"{bridge['name']} ({bridge['conferenceIdLength']} digits)"))
        if "tollNumber" in audio:
            pairs.append(("Toll number", audio.get("tollNumber")))
            pairs.append(("Toll-free number", audio.get("tollFreeNumber")))
        pairs.append(("Assigned at", audio.get("assignedAt")))
    out.fields(pairs)


@click.group(
    short_help="One user: get, set, reset, enable, send-info, history.",
    epilog="""\b
Examples:
  confid user get adele.garcia.22@contoso.example
  confid user reset adele.garcia.22@contoso.example --reason "ID was shared publicly"
  confid user set adele.garcia.22@contoso.example --conference-id 4821395 --reason "asked"
  confid user enable adele.dubois.24@contoso.example --no-send-email
  confid user send-info adele.garcia.22@contoso.example --to assistant@contoso.example
  confid user history VXNlcjp1MDAwMjI --all --json
`confid user COMMAND --help` shows each command's options and more examples.""",
)
def user() -> None:
    """One user's audio conferencing: get, set, reset, enable, send-info, history.

    USER is an email address or a user id.
    """


@user.command(
    "get",
    short_help="Show a user's conference ID (GetUser).",
    epilog="""\b
Examples:
  confid user get adele.garcia.22@contoso.example
  confid user get VXNlcjp1MDAwMjI --json
Exits 1 when no user matches.""",
)
@USER
@connection_options
def get_user(user: str) -> None:
    """Show a user's conference ID, bridge and dial-in numbers (GetUser).

    Like Get-CsOnlineDialInConferencingUser.
    """
    session = Session.current()
    data = find_user(session, user)
    if data["user"] is None:
        not_found(session, data, user)
    session.emit_or(data, lambda: show_user(session, data["user"]))


@user.command(
    "history",
    short_help="A user's conference-ID changes.",
    epilog="""\b
Examples:
  confid user history adele.garcia.22@contoso.example
  confid user history VXNlcjp1MDAwMjI --all --json
Admin and auditor. Refused attempts are in `confid audit events --user USER`.""",
)
@USER
@page_options
@connection_options
def history(user: str, first: int | None, after: str | None, every_page: bool) -> None:
    """A user's conference-ID changes, newest first: who, when, why (ConferenceIdHistory)."""
    session = Session.current()
    data = fetch(
        session,
        "ConferenceIdHistory",
        {"id": user_id(session, user)},
        ("user", "conferenceIdHistory"),
        first=first,
        after=after,
        every_page=every_page,
        noun="history entries",
    )
    if data["user"] is None:
        not_found(session, data, user)

    def render() -> None:
        found = data["user"]
        connection = found["conferenceIdHistory"]
        session.output.table(
            ["Seq", "When", "Action", "From", "To", "Actor", "Reason"],
            [
                [
                    e["sequence"],
                    when(e["occurredAt"]),
                    e["action"],
                    e["previousConferenceId"],
                    e["newConferenceId"],
                    f"{e['actor']['name']} ({e['actor']['role'].lower()})",
                    e["reason"],
                ]
                for e in (edge["node"] for edge in connection["edges"])
            ],
            title=f"{found['displayName']}: {connection['totalCount']} change(s)",
            caption=more_hint(connection, f"confid user history {shlex.quote(user)}"),
        )

    session.emit_or(data, render)


# -- users ---------------------------------------------------------------------------------


@click.group(
    epilog="""\b
Examples:
  confid users list --search adele --first 3
  confid users list --bridge "Contoso Audio Conferencing" --all --json > users.json""",
)
def users() -> None:
    """The user directory."""


@users.command(
    "list",
    epilog="""\b
Examples:
  confid users list --search adele
  confid users list --bridge "Contoso Audio"
  confid users list --first 50 --after CURSOR
  confid users list --all --json > users.json""",
)
@click.option(
    "--search", metavar="TEXT", help="Case-insensitive text in the display name or email."
)
@click.option("--bridge", metavar="BRIDGE", help="Only users enabled on this bridge (id or name).")
@page_options
@connection_options
def list_users(
    search: str | None, bridge: str | None, first: int | None, after: str | None, every_page: bool
) -> None:
    """Users in directory order with their conference IDs (ListUsers)."""
    session = Session.current()
    bridge_id = resolve_bridge(session, bridge)["id"] if bridge is not None else None
    data = fetch(
        session,
        "ListUsers",
        {"search": search, "bridgeId": bridge_id},
        ("users",),
        first=first,
        after=after,
        every_page=every_page,
        noun="users",
    )

    def render() -> None:
        connection = data["users"]
        rows = []
        for edge in connection["edges"]:
            node = edge["node"]
            audio = node["audioConferencing"]
            rows.append(
                [
                    node["displayName"],
                    node["email"],
                    audio["conferenceId"] if audio else "not enabled",
                    audio["bridge"]["name"] if audio else None,
                    node["id"],
                ]
            )
        command = "confid users list" + (f" --search {shlex.quote(search)}" if search else "")
        session.output.table(
            ["Name", "Email", "Conference ID", "Bridge", "Id"],
            rows,
            caption=more_hint(connection, command),
        )

    session.emit_or(data, render)

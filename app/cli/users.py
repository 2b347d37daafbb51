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


def _send_email_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--send-email/--no-send-email",
        default=None,
        help=f"Email the user {what} (default: the tenant setting).",
    )


_IDEMPOTENCY = click.option(
    "--idempotency-key",
    metavar="KEY",
    help="Up to 100 characters; running the command again with the same key changes "
    "nothing more and shows the first result.",
)
_REASON = click.option(
    "--reason", metavar="TEXT", help="Why (at most 500 characters); kept in the audit trail."
)


# -- rendering ------------------------------------------------------------------------------


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


def show_change(session: Session, payload: dict[str, Any], verb: str) -> None:
    """What a set, reset or enable did: the new ID, its audit entry and its email."""
    out = session.output
    user = payload["user"]
    audio = user.get("audioConferencing") or {}
    out.line(f"{user['displayName']}: conference ID {verb} {audio.get('conferenceId')}.")
    if verb != "assigned":
        out.line("The old ID no longer works: meetings that carry it must be rescheduled.")
    show_trail(session, payload)


def show_trail(session: Session, payload: dict[str, Any]) -> None:
    out = session.output
    event = payload.get("auditEvent")
    if event:
        out.line(f"Audit entry #{event['sequence']}: {event['action']} {event['outcome']}")
    notification = payload.get("notification")
    if notification:
        to = ", ".join(notification.get("to") or []) or "no recipient"
        if notification.get("toPrimaryAddress") is False:
            to += " (not the user's primary address)"
        out.line(f"Email {notification['kind']} to {to}: {notification['status']}")


# -- user ----------------------------------------------------------------------------------


@click.group(short_help="One user: get, set, reset, enable, send-info, history.")
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
    "set",
    short_help="Set a hand-picked conference ID (admin).",
    epilog="""\b
Examples:
  confid user set adele.garcia.22@contoso.example --conference-id 4821395 \\
      --reason "Requested by the user"
  confid user set VXNlcjp1MDAwMjI --conference-id 4821395 --no-send-email --json
Admin only. Try the ID first with `confid check`. A refused ID exits 1 and prints each
rule it breaks.""",
)
@USER
@click.option(
    "--conference-id", required=True, metavar="DIGITS", help="The hand-picked conference ID."
)
@_REASON
@_send_email_option("the new ID")
@_IDEMPOTENCY
@connection_options
def set_user(
    user: str,
    conference_id: str,
    reason: str | None,
    send_email: bool | None,
    idempotency_key: str | None,
) -> None:
    """Give a user a hand-picked conference ID (SetConferenceId).

    The old ID is retired at once and never reused. Like
    Set-CsOnlineDialInConferencingUser -ConferenceId.
    """
    session = Session.current()
    data = session.mutate(
        "SetConferenceId",
        "setConferenceId",
        {
            "userId": user_id(session, user),
            "conferenceId": conference_id,
            "reason": reason,
            "sendEmail": send_email,
            "idempotencyKey": idempotency_key,
        },
    )
    session.emit_or(data, lambda: show_change(session, data["setConferenceId"], "is now"))


@user.command(
    "reset",
    short_help="Reset to a fresh generated conference ID.",
    epilog="""\b
Examples:
  confid user reset adele.garcia.22@contoso.example --reason "ID was shared publicly"
  confid user reset VXNlcjp1MDAwMjI --no-send-email --json""",
)
@USER
@_REASON
@_send_email_option("the new ID")
@_IDEMPOTENCY
@connection_options
def reset_user(
    user: str, reason: str | None, send_email: bool | None, idempotency_key: str | None
) -> None:
    """Replace a user's conference ID with a fresh generated one (ResetConferenceId).

    The old ID is retired at once and never reused. Like
    Set-CsOnlineDialInConferencingUser -ResetConferenceId.
    """
    session = Session.current()
    data = session.mutate(
        "ResetConferenceId",
        "resetConferenceId",
        {
            "userId": user_id(session, user),
            "reason": reason,
            "sendEmail": send_email,
            "idempotencyKey": idempotency_key,
        },
    )
    session.emit_or(data, lambda: show_change(session, data["resetConferenceId"], "is now"))


@user.command(
    "enable",
    short_help="Enable audio conferencing (assigns an ID).",
    epilog="""\b
Examples:
  confid user enable noah.kim.8@contoso.example
  confid user enable noah.kim.8@contoso.example --bridge "Contoso Audio" --no-send-email""",
)
@USER
@click.option("--bridge", metavar="BRIDGE", help="Bridge id or name (default: the default bridge).")
@_send_email_option("the conference info")
@_IDEMPOTENCY
@connection_options
def enable_user(
    user: str, bridge: str | None, send_email: bool | None, idempotency_key: str | None
) -> None:
    """Enable a user for audio conferencing with a generated ID (EnableAudioConferencing)."""
    session = Session.current()
    data = session.mutate(
        "EnableAudioConferencing",
        "enableAudioConferencing",
        {
            "userId": user_id(session, user),
            "bridgeId": resolve_bridge(session, bridge)["id"] if bridge else None,
            "sendEmail": send_email,
            "idempotencyKey": idempotency_key,
        },
    )
    session.emit_or(data, lambda: show_change(session, data["enableAudioConferencing"], "assigned"))


@user.command(
    "send-info",
    short_help="Email the conference ID and dial-in numbers.",
    epilog="""\b
Examples:
  confid user send-info adele.garcia.22@contoso.example
  confid user send-info VXNlcjp1MDAwMjI --to assistant@contoso.example""",
)
@USER
@click.option(
    "--to",
    "to_address",
    metavar="ADDRESS",
    help="Send to this address instead of the user's own (flagged in the audit trail).",
)
@_IDEMPOTENCY
@connection_options
def send_info(user: str, to_address: str | None, idempotency_key: str | None) -> None:
    """Email the user's conference ID and dial-in numbers (SendConferenceInfo).

    Like Set-CsOnlineDialInConferencingUser -SendEmail -SendEmailToAddress.
    """
    session = Session.current()
    data = session.mutate(
        "SendConferenceInfo",
        "sendConferenceInfo",
        {
            "userId": user_id(session, user),
            "toAddress": to_address,
            "idempotencyKey": idempotency_key,
        },
    )
    session.emit_or(data, lambda: show_trail(session, data["sendConferenceInfo"]))


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


@click.group()
def users() -> None:
    """The user directory."""


@users.command(
    "list",
    epilog="""\b
Examples:
  confid users list --search adele
  confid users list --first 50 --after CURSOR
  confid users list --all --json > users.json""",
)
@click.option(
    "--search", metavar="TEXT", help="Case-insensitive text in the display name or email."
)
@page_options
@connection_options
def list_users(search: str | None, first: int | None, after: str | None, every_page: bool) -> None:
    """Users in directory order with their conference IDs (ListUsers)."""
    session = Session.current()
    data = fetch(
        session,
        "ListUsers",
        {"search": search},
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

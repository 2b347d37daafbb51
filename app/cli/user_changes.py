"""`confid user set|reset|enable|send-info`: the changes (Set-CsOnlineDialInConferencingUser
-ConferenceId / -ResetConferenceId / -SendEmail), each printed as its audit entry shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from app.cli.bridges import resolve_bridge
from app.cli.session import Session, connection_options
from app.cli.users import USER, user, user_id

F = TypeVar("F", bound=Callable[..., Any])


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

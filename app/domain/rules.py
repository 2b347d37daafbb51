"""Which changes a user's state allows, and the problem each refusal reports.

One validation serves the real change and its dry run: `setConferenceId` and
`checkConferenceId` both ask `state_problems` and `chosen_id_problems`; whether a chosen
ID is free is answered by the registry (the claim itself, or a read in the dry run).
Field paths name the argument at fault; the API adds `input` for mutations.
"""

from __future__ import annotations

from app.domain.errors import Problem, UserErrorCode
from app.domain.models import AuditAction, Bridge, NotificationStatus, User
from app.domain.operation import ChangeRequest
from app.domain.policy import email_problems, format_problems, reason_problems


def not_found() -> Problem:
    return Problem(UserErrorCode.NOT_FOUND, "No user has this id.", ("userId",))


def unknown_bridge() -> Problem:
    return Problem(UserErrorCode.NOT_FOUND, "No bridge has this id.", ("bridgeId",))


def not_enabled() -> Problem:
    return Problem(
        UserErrorCode.NOT_ENABLED,
        "This user is not enabled for audio conferencing, so has no conference ID.",
        ("userId",),
    )


def already_enabled() -> Problem:
    return Problem(
        UserErrorCode.ALREADY_ENABLED,
        "This user is already enabled for audio conferencing; reset the conference ID instead.",
        ("userId",),
    )


def same_as_current() -> Problem:
    return Problem(
        UserErrorCode.SAME_AS_CURRENT,
        "This is already the user's conference ID.",
        ("conferenceId",),
    )


def conflict() -> Problem:
    return Problem(
        UserErrorCode.CONFLICT,
        "Another change of this user is in progress; try again in a moment.",
        ("userId",),
    )


def in_use() -> Problem:
    return Problem(
        UserErrorCode.IN_USE, "Another user holds this conference ID.", ("conferenceId",)
    )


def retired() -> Problem:
    return Problem(
        UserErrorCode.RETIRED,
        "This conference ID was retired and can never be assigned again, so that callers "
        "with old invites cannot land in someone else's meeting.",
        ("conferenceId",),
    )


def already_resent(notification_id: str, status: NotificationStatus) -> Problem:
    return Problem(
        UserErrorCode.NOT_RESENDABLE,
        f"This email was already sent again as notification {notification_id} "
        f"({status.value}); resend that one if it fails too.",
        ("notificationId",),
    )


def input_problems(request: ChangeRequest) -> list[Problem]:
    """What is wrong with the request's own text, before anything is read."""
    problems = reason_problems(request.reason)
    if request.to_address is not None:
        problems += email_problems(request.to_address, ("toAddress",))
    return problems


def state_problems(request: ChangeRequest, user: User | None) -> list[Problem]:
    """What the user's current state refuses: a missing user, enabling twice, changing
    the ID of a user who has none, setting the ID they already have."""
    if user is None:
        return [not_found()]
    if request.action is AuditAction.ASSIGN:
        return [already_enabled()] if user.audio is not None else []
    if user.audio is None:
        return [not_enabled()]
    if request.conference_id is not None and request.conference_id == user.audio.conference_id:
        return [same_as_current()]
    return []


def chosen_id_problems(conference_id: str, bridge: Bridge) -> list[Problem]:
    """The policy for a hand-picked ID on its bridge: characters, length, weak patterns."""
    return format_problems(conference_id, bridge.conference_id_length)


def validate(request: ChangeRequest, user: User | None, bridge: Bridge | None) -> list[Problem]:
    """Every problem of a request against the user's state, all reported at once.

    `bridge` is the bridge the change is on: the requested (or default) one for an
    ASSIGN, None when there is no such bridge; the user's own otherwise (None when the
    user has no ID). This is the whole policy short of "is the chosen ID free".
    """
    problems = state_problems(request, user) + input_problems(request)
    if request.action is AuditAction.ASSIGN and bridge is None:
        problems.append(unknown_bridge())
    if request.conference_id is not None and bridge is not None:
        problems += chosen_id_problems(request.conference_id, bridge)
    return problems

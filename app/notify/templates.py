"""Rendering the two kinds of email; no template ever has a PIN in it."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from app.domain.models import Bridge, NotificationKind


@dataclass(frozen=True, slots=True)
class Rendered:
    """A subject and a plain-text body."""

    subject: str
    body: str


_INFO = Template(
    """Hello $name,

Here is how people join your audio-conferencing meetings by phone.

Conference ID: $conference_id
$numbers

Callers dial one of the numbers above and enter the conference ID when asked.

This message was sent by your organization's conferencing administrators.
"""
)

_CHANGED = Template(
    """Hello $name,

Your audio-conferencing conference ID has changed.

New conference ID: $conference_id
$numbers

Your old conference ID no longer works. Meetings you scheduled before this change still
carry the old ID: reschedule them (or send an updated invitation) so that they carry the
new conference ID, otherwise callers will not be able to join by phone.

This message was sent by your organization's conferencing administrators.
"""
)


def _numbers(bridge: Bridge) -> str:
    lines = []
    if bridge.default_toll_number:
        lines.append(f"Toll number: {bridge.default_toll_number}")
    if bridge.default_toll_free_number:
        lines.append(f"Toll-free number: {bridge.default_toll_free_number}")
    return "\n".join(lines) if lines else "Dial-in numbers: ask your administrator."


def render(
    kind: NotificationKind, display_name: str, conference_id: str, bridge: Bridge
) -> Rendered:
    """Render an email of `kind` for one user."""
    values = {"name": display_name, "conference_id": conference_id, "numbers": _numbers(bridge)}
    if kind is NotificationKind.CONFERENCE_INFO:
        return Rendered("Your audio-conferencing dial-in information", _INFO.substitute(values))
    return Rendered(
        "Your audio-conferencing conference ID has changed", _CHANGED.substitute(values)
    )

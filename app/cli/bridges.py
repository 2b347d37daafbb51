"""`confid bridges list`, and naming a bridge by id or name in other commands."""

from __future__ import annotations

from typing import Any

import click

from app.cli.errors import UsageError
from app.cli.session import Session, connection_options


def resolve_bridge(session: Session, ref: str) -> dict[str, Any]:
    """The bridge whose id is `ref`, or whose name is `ref` in any case."""
    bridges: list[dict[str, Any]] = session.run("ListBridges")["bridges"]
    for bridge in bridges:
        if ref == bridge["id"] or ref.casefold() == bridge["name"].casefold():
            return bridge
    names = ", ".join(f"{b['name']!r} ({b['id']})" for b in bridges) or "none"
    raise UsageError(f"no bridge has the id or name {ref!r}; the bridges are: {names}")


@click.group(epilog="\b\nExamples:\n  confid bridges list\n  confid bridges list --json")
def bridges() -> None:
    """Audio-conferencing bridges."""


@bridges.command(
    "list", epilog="\b\nExamples:\n  confid bridges list\n  confid bridges list --json"
)
@connection_options
def list_bridges() -> None:
    """Every bridge: its id length and default dial-in numbers (ListBridges)."""
    session = Session.current()
    data = session.run("ListBridges")
    session.emit_or(
        data,
        lambda: session.output.table(
            ["Name", "ID length", "Toll number", "Toll-free number", "Default", "Id"],
            [
                [
                    b["name"],
                    b["conferenceIdLength"],
                    b["defaultTollNumber"],
                    b["defaultTollFreeNumber"],
                    "yes" if b["isDefault"] else "",
                    b["id"],
                ]
                for b in data["bridges"]
            ],
        ),
    )

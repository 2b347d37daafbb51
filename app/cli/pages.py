"""Relay pages: one page as asked (`--first`, `--after`), or every page (`--all`) with progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from app.cli.session import Session

F = TypeVar("F", bound=Callable[..., Any])

MAX_PAGE = 100


def page_options(function: F) -> F:
    """Add `--first`, `--after` and `--all` to a listing command."""
    function = click.option(
        "--all",
        "every_page",
        is_flag=True,
        help=f"Fetch every page ({MAX_PAGE} a request unless --first says otherwise).",
    )(function)
    function = click.option(
        "--after", metavar="CURSOR", help="Start after this cursor (a page's endCursor)."
    )(function)
    function = click.option(
        "--first",
        type=click.IntRange(1, MAX_PAGE),
        metavar="N",
        help="Page size, 1-100 (default 20; 100 with --all).",
    )(function)
    return function


def _dig(data: dict[str, Any] | None, path: Sequence[str]) -> Any:
    for key in path:
        if data is None:
            return None
        data = data[key]
    return data


def fetch(
    session: Session,
    name: str,
    variables: dict[str, Any],
    path: Sequence[str],
    *,
    first: int | None,
    after: str | None,
    every_page: bool,
    noun: str,
) -> dict[str, Any]:
    """Run operation `name`; with `every_page`, follow `pageInfo` to the end and return the
    first answer with the edges of every page and the last page's `pageInfo`."""
    variables = {**variables, "first": first or (MAX_PAGE if every_page else None)}
    variables["after"] = after
    data = session.run(name, variables)
    connection = _dig(data, path)
    if connection is None or not every_page:
        return data
    edges = connection["edges"]
    total = connection.get("totalCount")
    with session.output.progress("fetching", noun, total=total) as tracker:
        tracker.advance(len(edges))
        while connection["pageInfo"]["hasNextPage"]:
            variables["after"] = connection["pageInfo"]["endCursor"]
            connection = _dig(session.run(name, variables), path)
            edges.extend(connection["edges"])
            tracker.advance(len(connection["edges"]))
    _dig(data, path)["pageInfo"] = connection["pageInfo"]
    return data


def more_hint(connection: dict[str, Any], command: str) -> str | None:
    """What to type for the next page, when there is one."""
    info = connection["pageInfo"]
    if not info["hasNextPage"]:
        return None
    return f"more: {command} --after {info['endCursor']}   (or --all)"

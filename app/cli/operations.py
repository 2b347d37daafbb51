"""The GraphQL documents the CLI sends: the files of graphql/operations/, as users paste them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from app.cli.errors import CliError

#: The same files GraphiQL offers as tabs and the docs quote, so all three say the same.
# app/operations: a link to graphql/operations in a checkout, the files in an installed wheel.
OPERATIONS_DIR = Path(__file__).parent.parent / "operations"


@cache
def operation(name: str) -> str:
    """The text of graphql/operations/<name>.graphql."""
    path = OPERATIONS_DIR / f"{name}.graphql"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"this confid installation lacks {path}: {exc.strerror}") from None

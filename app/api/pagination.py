"""Relay connection arguments: `first` bounds and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

import strawberry

from app.domain.errors import BadRequest

DEFAULT_PAGE = 20
MAX_PAGE = 100


def check_first(first: int | None) -> int:
    """`first` defaults to 20 and must lie in 1..100."""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"`first` must be between 1 and {MAX_PAGE}; it was {first}.")
    return first


def encode_cursor(kind: str, key: list[Any]) -> str:
    """An opaque cursor naming the list it belongs to and the position in it."""
    raw = json.dumps([kind, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str, arity: int) -> list[Any] | None:
    """The key inside a cursor of this list; a cursor that is not ours is a BAD_REQUEST."""
    if cursor is None:
        return None
    try:
        if len(cursor) > 500 or not cursor.isascii():
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("`after` is not a cursor returned by this list.") from None
    if not isinstance(data, list) or len(data) != arity + 1 or data[0] != kind:
        raise BadRequest("`after` is not a cursor returned by this list.")
    return data[1:]


FirstArg = Annotated[int | None, strawberry.argument(description="Page size, 1-100 (default 20).")]
AfterArg = Annotated[
    str | None, strawberry.argument(description="`endCursor` of the previous page.")
]

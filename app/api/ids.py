"""Opaque global ids: base64url of `<Type>:<id>`, checked for type on the way in."""

from __future__ import annotations

import base64
import binascii
import re

from app.domain.errors import BadRequest

MAX_ID_LENGTH = 200
# base64url, unpadded or padded: anything else (spaces, line breaks, ESC, `+` or `/`) is
# not an id confid gave out, although a lenient decoder would skip over it.
_ID_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _well_formed(global_id: str) -> bool:
    return 0 < len(global_id) <= MAX_ID_LENGTH and _ID_TEXT.fullmatch(global_id) is not None


def encode_id(type_name: str, raw: str | int) -> str:
    """The global id of a stored object."""
    return base64.urlsafe_b64encode(f"{type_name}:{raw}".encode()).decode().rstrip("=")


def decode_id(global_id: str, type_name: str) -> str | None:
    """The stored id inside a global id of `type_name`, or None when it is not one."""
    if not _well_formed(global_id):
        return None
    try:
        text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    prefix, sep, raw = text.partition(":")
    if not sep or prefix != type_name or not raw or not raw.isprintable():
        return None
    return raw


def require_id(global_id: str, type_name: str, argument: str) -> str:
    """Like `decode_id`, but a malformed id is a BAD_REQUEST naming the argument."""
    raw = decode_id(global_id, type_name)
    if raw is None:
        raise BadRequest(f"`{argument}` is not a valid {type_name} id.")
    return raw


def split_node_id(global_id: str) -> tuple[str, str] | None:
    """(type, stored id) of any global id, or None when malformed."""
    if not _well_formed(global_id):
        return None
    try:
        text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    prefix, sep, raw = text.partition(":")
    return (prefix, raw) if sep and raw else None

"""Reading a /graphql request body safely: bounded in size and time, strict JSON."""

from __future__ import annotations

import asyncio
import json

from cross_web import HTTPException
from starlette.types import Message, Receive, Scope

from app.api.limits import MAX_BODY_BYTES, MAX_JSON_NESTING


def _nesting(text: str) -> int:
    """Deepest bracket nesting of a JSON text (outside strings), computed without recursion."""
    if text.count("[") + text.count("{") <= MAX_JSON_NESTING:
        return 0  # cannot nest deeper than it has brackets (the usual, cheap case)
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def decode_body(data: str | bytes) -> object:
    """The JSON object of a request body; HTTP 400 with the reason for anything else."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise HTTPException(400, "The request body is not valid UTF-8.") from None
    if _nesting(text) > MAX_JSON_NESTING:
        raise HTTPException(400, f"The JSON is nested deeper than {MAX_JSON_NESTING}.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"The request body is not valid JSON: {exc.msg}.") from None
    if "\\ud" in text.lower() and _has_lone_surrogate(value):
        raise HTTPException(
            400, "The JSON contains an unpaired UTF-16 surrogate escape; send valid Unicode."
        )
    if isinstance(value, list):
        raise HTTPException(400, "Batched requests (a JSON array) are not supported.")
    if not isinstance(value, dict):
        raise HTTPException(400, "The request body must be a JSON object with a `query`.")
    return value


def _has_lone_surrogate(value: object) -> bool:
    """JSON may escape half a surrogate pair; no database or hash can store such a string."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def declared_too_large(scope: Scope) -> bool:
    declared = dict(scope.get("headers", [])).get(b"content-length")
    return declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES


async def read_body(scope: Scope, receive: Receive, timeout: float) -> tuple[bytes, int | None]:
    """(body, None); or (b"", 413) for a body over the limit: at once when its declared
    Content-Length says so (nothing is read; the connection closes after the answer),
    else once it passes the limit (the rest is drained, so the answer is not lost in a
    reset); or (b"", 408) when the whole body has not arrived within `timeout` seconds."""
    if declared_too_large(scope):
        return b"", 413
    chunks: list[bytes] = []
    size = 0
    too_large = False
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                too_large = too_large or size > MAX_BODY_BYTES
                if not too_large:
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        return b"", 408
    return (b"", 413) if too_large else (b"".join(chunks), None)


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive

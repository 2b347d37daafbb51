"""Talking to a running confid: GraphQL over HTTP, and the audit export stream.

Every way a request can fail ends here as one of the errors in `app.cli.errors`, so each
command only deals with answers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx2 as httpx

from app.cli.errors import AuthError, CliError, ServerError, Unreachable, UsageError

#: Sent as User-Agent, so the audit trail shows that a change came from the CLI.
try:
    USER_AGENT = f"confid-cli/{version('confid')}"
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    USER_AGENT = "confid-cli"

_AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
THROTTLE_RETRIES = 5
THROTTLE_WAIT_MAX = 60.0


def _retry_after(response: httpx.Response) -> float:
    """The server's Retry-After in seconds, within 1..THROTTLE_WAIT_MAX."""
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 1.0), THROTTLE_WAIT_MAX)


_USAGE_CODES = {"BAD_REQUEST", "QUERY_TOO_COMPLEX"}


@dataclass(slots=True)
class Answer:
    """A GraphQL answer whose `errors` were empty: the `data` is complete."""

    data: dict[str, Any]
    request_id: str | None


class Client:
    """One confid at `base_url`, called with one bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 60,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"CONFID_URL must start with http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=10),
        )

    def close(self) -> None:
        self._http.close()

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> Answer:
        """POST one operation; top-level errors raise (see `raise_for_errors`). An answer
        THROTTLED by the token's rate limit (HTTP 429, nothing was executed) is waited out
        and sent again, up to THROTTLE_RETRIES times."""
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                response = self._http.post(
                    "/graphql", json={"query": document, "variables": variables or {}}
                )
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
            if response.status_code != 429 or attempt == THROTTLE_RETRIES:
                break
            wait = _retry_after(response)
            print(
                f"confid: rate limited (THROTTLED); waiting {wait:.0f} s before sending again",
                file=sys.stderr,
            )
            self._sleep(wait)
        body = _json_body(response, self.base_url)
        errors = body.get("errors")
        if errors:
            raise_for_errors(errors, response, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ServerError(f"{self.base_url} answered HTTP {response.status_code} without data")
        return Answer(data, response.headers.get("X-Request-Id"))

    @contextmanager
    def stream(self, path: str, params: dict[str, str]) -> Iterator[httpx.Response]:
        """GET a streamed resource (the audit export); refusals raise like GraphQL errors.
        THROTTLED (HTTP 429, nothing was read) is waited out as `execute` does."""
        try:
            for attempt in range(THROTTLE_RETRIES + 1):
                with self._http.stream(
                    "GET", path, params=params, timeout=httpx.Timeout(60, read=300)
                ) as response:
                    if response.status_code == 429 and attempt < THROTTLE_RETRIES:
                        response.read()
                        wait = _retry_after(response)
                        print(
                            f"confid: rate limited (THROTTLED); waiting {wait:.0f} s before "
                            "asking again",
                            file=sys.stderr,
                        )
                        self._sleep(wait)
                        continue
                    if response.status_code != 200:
                        response.read()
                        body = _json_body(response, self.base_url)
                        raise_for_errors(body.get("errors") or [], response, body)
                        raise ServerError(f"{path} answered HTTP {response.status_code}")
                    yield response
                    return
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: httpx.TransportError) -> CliError:
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return UsageError(f"not a usable CONFID_URL: {self.base_url} ({exc})")
        reason = str(exc) or type(exc).__name__
        return Unreachable(f"cannot reach confid at {self.base_url}: {reason}")


def _json_body(response: httpx.Response, base_url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        kind = response.headers.get("content-type", "no content type")
        raise Unreachable(
            f"no confid at {base_url}: HTTP {response.status_code} answered with {kind}"
        )
    return body


def raise_for_errors(
    errors: list[Any], response: httpx.Response, body: dict[str, Any] | None = None
) -> None:
    """Turn GraphQL top-level errors into the CLI error with the right exit code.

    The server's own message is kept word for word; the code and request id follow it.
    """
    if not errors:
        return
    codes: list[str] = []
    lines: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            error = {"message": str(error)}
        code = str((error.get("extensions") or {}).get("code") or "ERROR")
        codes.append(code)
        message = str(error.get("message", ""))
        lines.append(f"{code}: {message}")
    request_id = response.headers.get("X-Request-Id")
    details = [f"  {line}" for line in lines[1:]]
    if request_id:
        details.append(f"  (request id {request_id})")
    message = lines[0]
    status = response.status_code
    if status == 401 or _AUTH_CODES.intersection(codes):
        raise AuthError(message, details=details, document=body)
    if status in (502, 503, 504):
        retry = response.headers.get("Retry-After")
        hint = f"; retry after {retry} s" if retry else ""
        message = f"confid cannot serve now (HTTP {status}{hint}): {message}"
        raise Unreachable(message, details=details, document=body)
    if _USAGE_CODES.issuperset(codes):
        raise UsageError(message, details=details, document=body)
    raise ServerError(message, details=details, document=body)

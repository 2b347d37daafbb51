"""The one error hierarchy of confid; `app.api.errors` maps it to the API.

ConfidError
├── Rejected            a refusal inside a change; carries `Problem`s -> `userErrors`
│                       (and a REJECTED audit entry: raised by the change path's steps,
│                       caught once by its refusal path)
├── AccessDenied
│   ├── Unauthenticated missing, unknown or misplaced token -> HTTP 401
│   │   └── InvalidToken  a token that does not validate -> 401, error="invalid_token"
│   └── Forbidden       the role may not do this -> FORBIDDEN (403 when no role at all)
├── IdentityUnavailable the OpenID provider's keys cannot be had -> HTTP 503
├── BadRequest          malformed arguments, cursors, ids -> BAD_REQUEST
├── QueryTooComplex     depth, size, alias or cost limits -> QUERY_TOO_COMPLEX
├── Throttled           the caller's rate limit is used up -> HTTP 429, THROTTLED
└── StoreError          the database misbehaved -> INTERNAL (masked)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class UserErrorCode(Enum):
    """Why a mutation (or a dry run) was refused."""

    NOT_FOUND = "NOT_FOUND"
    NOT_ENABLED = "NOT_ENABLED"
    ALREADY_ENABLED = "ALREADY_ENABLED"
    INVALID_CHARACTERS = "INVALID_CHARACTERS"
    WRONG_LENGTH = "WRONG_LENGTH"
    SAME_AS_CURRENT = "SAME_AS_CURRENT"
    IN_USE = "IN_USE"
    RETIRED = "RETIRED"
    WEAK_PATTERN = "WEAK_PATTERN"
    INVALID_EMAIL = "INVALID_EMAIL"
    TOO_LONG = "TOO_LONG"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    SIGNING_DISABLED = "SIGNING_DISABLED"
    NOT_RESENDABLE = "NOT_RESENDABLE"
    NOTHING_TO_RESET = "NOTHING_TO_RESET"
    SELECTION_CHANGED = "SELECTION_CHANGED"
    REASON_REQUIRED = "REASON_REQUIRED"
    JOB_FINISHED = "JOB_FINISHED"
    TRAIL_INVALID = "TRAIL_INVALID"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a request was refused, addressed to the input field that caused it."""

    code: UserErrorCode
    message: str
    field: tuple[str, ...] = ()
    rule: str | None = None


class ConfidError(Exception):
    """Base of every error confid raises on purpose."""


class Rejected(ConfidError):
    """A domain refusal: the request was understood and refused; nothing changed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class AccessDenied(ConfidError):
    """The caller may not do this."""


class Unauthenticated(AccessDenied):
    """No valid bearer token in the Authorization header."""


class InvalidToken(Unauthenticated):
    """A bearer token was sent but is unknown, expired, malformed or badly signed."""


class Forbidden(AccessDenied):
    """The caller's role does not allow this operation."""


class IdentityUnavailable(ConfidError):
    """A token could not be checked: the OpenID provider's keys could not be fetched."""


class BadRequest(ConfidError):
    """The request is malformed: bad argument values, cursors or ids."""


class QueryTooComplex(ConfidError):
    """The query exceeds a documented limit."""


class Throttled(ConfidError):
    """The caller has used up its rate limit; nothing was run. Retry after `retry_after` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(ConfidError):
    """The database did not behave as expected; reported as INTERNAL."""

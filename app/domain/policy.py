"""The conference-ID policy: what a chosen ID must satisfy, each failure with its code."""

from __future__ import annotations

import itertools

from app.domain.errors import Problem, UserErrorCode

ASCII_DIGITS = frozenset("0123456789")
REASON_MAX = 500
EMAIL_MAX = 254

# Named weak-pattern rules, reported in `UserError.rule`.
SINGLE_DIGIT = "SINGLE_DIGIT"
RUN_OF_FIVE = "RUN_OF_FIVE"
SEQUENCE = "SEQUENCE"
REPEATED_GROUP = "REPEATED_GROUP"

_RULE_TEXT = {
    SINGLE_DIGIT: "it is one digit repeated",
    RUN_OF_FIVE: "it has five or more equal digits in a row",
    SEQUENCE: "its digits ascend or descend by one",
    REPEATED_GROUP: "it is a short group of digits repeated",
}


def weak_rule(conference_id: str) -> str | None:
    """Name the first weak-pattern rule an all-digit ID breaks, or None when it is strong."""
    n = len(conference_id)
    if n == 0:
        return None
    if len(set(conference_id)) == 1:
        return SINGLE_DIGIT
    run = 1
    for prev, cur in itertools.pairwise(conference_id):
        run = run + 1 if cur == prev else 1
        if run >= 5:
            return RUN_OF_FIVE
    digits = [ord(c) - 48 for c in conference_id]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if n > 1 and (steps == {1} or steps == {9}):
        return SEQUENCE
    for size in range(1, n // 2 + 1):
        group = conference_id[:size]
        if all(conference_id[i] == group[i % size] for i in range(n)):
            return REPEATED_GROUP
    return None


def format_problems(conference_id: str, length: int) -> list[Problem]:
    """Problems of the ID's own form: characters, length, weak patterns."""
    field = ("conferenceId",)
    problems: list[Problem] = []
    if not conference_id or not set(conference_id) <= ASCII_DIGITS:
        problems.append(
            Problem(
                UserErrorCode.INVALID_CHARACTERS,
                "A conference ID may contain only the digits 0-9 (no spaces, letters "
                "or other scripts' digits).",
                field,
            )
        )
    if len(conference_id) != length:
        problems.append(
            Problem(
                UserErrorCode.WRONG_LENGTH,
                f"A conference ID on this bridge has exactly {length} digits; "
                f"this one has {len(conference_id)} characters.",
                field,
            )
        )
    if not problems:
        rule = weak_rule(conference_id)
        if rule is not None:
            problems.append(
                Problem(
                    UserErrorCode.WEAK_PATTERN,
                    f"This conference ID is too easy to guess: {_RULE_TEXT[rule]} ({rule}).",
                    field,
                    rule,
                )
            )
    return problems


def is_allowed(conference_id: str, length: int) -> bool:
    """True when an ID passes every rule of its own form (the generator's filter)."""
    return not format_problems(conference_id, length)


# C0 control characters other than tab, line feed and carriage return, DEL, C1 controls,
# and the bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E-F,
# U+202A-E, U+2066-9): they have no place in a reason and can hide or reorder text for
# whoever reads the trail or its export (a reason shown right to left in a spreadsheet).
_CONTROL = frozenset(
    chr(c)
    for c in (
        *range(0, 9), 11, 12, *range(14, 32), *range(127, 160),
        0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
    )
)  # fmt: skip


def reason_problems(reason: str | None) -> list[Problem]:
    """A reason over the bound is refused rather than cut; control characters too."""
    problems: list[Problem] = []
    if reason is None:
        return problems
    if len(reason) > REASON_MAX:
        problems.append(
            Problem(
                UserErrorCode.TOO_LONG,
                f"The reason may have at most {REASON_MAX} characters; it has {len(reason)}.",
                ("reason",),
            )
        )
    if not _CONTROL.isdisjoint(reason):
        problems.append(
            Problem(
                UserErrorCode.INVALID_CHARACTERS,
                "The reason may not contain control characters or bidirectional controls "
                "(line breaks and tabs are fine).",
                ("reason",),
            )
        )
    return problems


def email_problems(address: str, field: tuple[str, ...]) -> list[Problem]:
    """A pragmatic address check: one @, a dotted domain, no spaces or controls, ≤ 254."""
    message = "Enter one email address such as name@example.com (at most 254 characters)."
    if len(address) > EMAIL_MAX or not address.isprintable():
        return [Problem(UserErrorCode.INVALID_EMAIL, message, field)]
    local, sep, domain = address.rpartition("@")
    bad = (
        not sep
        or not local
        or not domain
        or "@" in local
        or any(c.isspace() or ord(c) < 32 or c in '<>,;:"()[]\\' for c in address)
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or ".." in domain
        or len(local) > 64
    )
    return [Problem(UserErrorCode.INVALID_EMAIL, message, field)] if bad else []

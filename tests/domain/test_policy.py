"""The conference-ID policy: each rule, its code, and its named weak patterns."""

from __future__ import annotations

import pytest

from app.domain.errors import UserErrorCode
from app.domain.policy import (
    REPEATED_GROUP,
    RUN_OF_FIVE,
    SEQUENCE,
    SINGLE_DIGIT,
    email_problems,
    format_problems,
    reason_problems,
    weak_rule,
)


def codes(conference_id: str, length: int = 7) -> list[UserErrorCode]:
    return [p.code for p in format_problems(conference_id, length)]


@pytest.mark.parametrize(
    ("conference_id", "rule"),
    [
        ("0000000", SINGLE_DIGIT),
        ("1111111", SINGLE_DIGIT),
        ("3777772", RUN_OF_FIVE),
        ("7777712", RUN_OF_FIVE),
        ("1234567", SEQUENCE),
        ("9876543", SEQUENCE),
        ("8901234", SEQUENCE),
        ("2109876", SEQUENCE),
        ("1212121", REPEATED_GROUP),
        ("4074074", REPEATED_GROUP),
        ("1231231", REPEATED_GROUP),
    ],
)
def test_weak_patterns_are_named(conference_id: str, rule: str) -> None:
    assert weak_rule(conference_id) == rule
    (problem,) = format_problems(conference_id, 7)
    assert problem.code is UserErrorCode.WEAK_PATTERN
    assert problem.rule == rule
    assert rule in problem.message


@pytest.mark.parametrize("conference_id", ["8390146", "0012345", "3777712", "1234560", "4074075"])
def test_strong_ids_pass(conference_id: str) -> None:
    assert format_problems(conference_id, 7) == []


@pytest.mark.parametrize(
    "conference_id",
    ["٣٣٩١٤٦٢", "８３９０１４６", "839014²", " 8390146", "8390146 ", "839 146", "83a0146", ""],
)
def test_only_ascii_digits(conference_id: str) -> None:
    assert UserErrorCode.INVALID_CHARACTERS in codes(conference_id)


def test_several_failures_at_once() -> None:
    assert codes("12a") == [UserErrorCode.INVALID_CHARACTERS, UserErrorCode.WRONG_LENGTH]


@pytest.mark.parametrize("conference_id", ["839014", "83901467", "8" * 1000])
def test_exact_length(conference_id: str) -> None:
    assert codes(conference_id) == [UserErrorCode.WRONG_LENGTH]


def test_length_follows_the_bridge() -> None:
    assert codes("83901467", length=8) == []


def test_reason_bound() -> None:
    assert reason_problems("x" * 500) == []
    (problem,) = reason_problems("x" * 501)
    assert problem.code is UserErrorCode.TOO_LONG
    assert problem.field == ("reason",)


def test_reason_refuses_control_characters_but_not_line_breaks_or_tabs() -> None:
    assert reason_problems("ticket 4711:\r\n\tleaked in a forwarded invite") == []
    # Other scripts, right-to-left text and emoji (with their joiners) are fine.
    assert reason_problems("تسريب في دعوة — Lück 👩\u200d💻 日本") == []
    bidi = ("\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c")  # overrides, isolates
    for control in ("\x00", "\x1b[2J", "\x07", "\x7f", "\x0b", "\x85", "\x9b", *bidi):
        (problem,) = reason_problems(f"see {control} here")
        assert problem.code is UserErrorCode.INVALID_CHARACTERS and problem.field == ("reason",)


@pytest.mark.parametrize(
    "address",
    ["", "plain", "a@b", "a@@b.com", "a b@c.com", "a@b.com\n", "@b.com", "a@.com",
     "x" * 250 + "@b.com", '{"$ne": null}', "a@b..com"],
)  # fmt: skip
def test_bad_email_addresses(address: str) -> None:
    (problem,) = email_problems(address, ("input", "toAddress"))
    assert problem.code is UserErrorCode.INVALID_EMAIL


@pytest.mark.parametrize("address", ["ana@contoso.example", "o'neil+ops@mail.contoso.example"])
def test_good_email_addresses(address: str) -> None:
    assert email_problems(address, ("input", "toAddress")) == []

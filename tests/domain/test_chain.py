"""Canonical encoding, sealing and chain verification, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.chain import GENESIS_HASH, seal
from app.domain.encoding import canonical_bytes, canonical_json, record
from app.domain.entry import AuditDraft, AuditEntry
from app.domain.errors import UserErrorCode
from app.domain.models import SYSTEM_META, Actor, AuditAction, AuditOutcome, Role
from app.domain.verifier import ChainVerifier


def draft(n: int) -> AuditDraft:
    return AuditDraft(
        occurred_at=datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC),
        action=AuditAction.RESET,
        outcome=AuditOutcome.SUCCESS,
        error_codes=(),
        user_id=f"u{n}",
        bridge_id="default",
        previous_conference_id="8390146",
        new_conference_id="5550147",
        meta=SYSTEM_META,
        reason="née – ünïcode",
        recipients=(),
        to_non_primary=False,
        operation_id=f"op{n}",
    )


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entries.append(seal(draft(i), i, previous))
        previous = entries[-1].hash
    return entries


def verify(entries: list[AuditEntry]) -> tuple[bool, int | None]:
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    result = v.result()
    return result.ok, result.first_invalid_sequence


def test_sealing_cuts_to_milliseconds_as_mongodb_does() -> None:
    entry = seal(draft(1), 1, GENESIS_HASH)
    assert entry.occurred_at.microsecond == 123000
    assert b'"occurredAt":"2026-11-29T08:30:00.123Z"' in canonical_bytes(entry)


def test_a_clean_chain_verifies() -> None:
    entries = chain(5)
    assert verify(entries) == (True, None)
    v = ChainVerifier()
    for e in entries:
        v.feed(e)
    assert v.result().head_hash == entries[-1].hash


def test_an_edited_field_is_found() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], new_conference_id="0000001")
    assert verify(entries) == (False, 3)


def test_a_deleted_entry_is_named() -> None:
    entries = chain(5)
    del entries[1]
    assert verify(entries) == (False, 2)


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    entries = chain(5)
    edited = replace(entries[2], reason="rewritten")
    entries[2] = seal(replace(draft(3), reason="rewritten"), edited.sequence, edited.previous_hash)
    assert verify(entries) == (False, 4)


def test_empty_chain_is_ok() -> None:
    assert verify([]) == (True, None)


def test_iso_millis_cuts_like_mongodb() -> None:
    from app.domain.instants import iso_millis

    moment = datetime(2026, 11, 29, 8, 30, 0, 123999, tzinfo=UTC)
    assert iso_millis(moment) == "2026-11-29T08:30:00.123Z"
    assert iso_millis(moment.replace(tzinfo=None)) == "2026-11-29T08:30:00.123Z"
    from datetime import timedelta, timezone

    east = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert iso_millis(east) == "2026-11-29T08:30:00.123Z"


TEXTS = st.one_of(st.none(), st.text(max_size=30))


@given(
    user_id=TEXTS, reason=TEXTS, agent=TEXTS, client=TEXTS, name=st.text(min_size=1, max_size=20),
    issuer=TEXTS, subject=TEXTS, display=TEXTS,
    recipients=st.lists(st.text(max_size=20), max_size=3),
    codes=st.lists(st.sampled_from(list(UserErrorCode)), max_size=3),
    flag=st.booleans(), sequence=st.integers(1, 10**12),
    when=st.datetimes(timezones=st.just(UTC)),
)  # fmt: skip
@settings(max_examples=300)
def test_fast_encoding_is_byte_identical_to_json_dumps(
    user_id: str | None, reason: str | None, agent: str | None, client: str | None, name: str,
    issuer: str | None, subject: str | None, display: str | None, recipients: list[str],
    codes: list[UserErrorCode], flag: bool, sequence: int, when: datetime,
) -> None:  # fmt: skip
    entry = replace(
        seal(draft(1), sequence, GENESIS_HASH),
        user_id=user_id, reason=reason, user_agent=agent,
        actor=Actor(name, Role.ADMIN, issuer, subject, display),
        recipients=tuple(recipients), error_codes=tuple(codes), to_non_primary=flag,
        occurred_at=when, client_request_id=client,
    )  # fmt: skip
    expected = canonical_json(record(entry, hashed_only=True)).encode("utf-8")
    assert canonical_bytes(entry) == expected

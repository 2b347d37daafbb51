"""How entries are written and read (app.domain.encoding): the canonical bytes the hash
covers, the strict reading, and the compiled strict reader, which accepts exactly what the
generic reading accepts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import encoding as entry_module
from app.domain.chain import GENESIS_HASH, seal
from app.domain.encoding import actor_from, canonical_bytes, canonical_json, from_record, record
from app.domain.entry import FIELDS, AuditEntry
from app.domain.errors import UserErrorCode
from app.domain.models import Actor, Role
from app.store import codec
from tests.support.entries import draft, numbered_draft

ENTRIES = [
    seal(draft(), 42, "ab" * 32),
    seal(draft(client_request_id="ticket-4711"), 7, "cd" * 32),
]

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.sampled_from(["", "RESET", "SUCCESS", "IN_USE", "2026-11-29T08:30:00.123Z", "x"]),
    st.lists(st.sampled_from(["IN_USE", "a@x.example", "nope"]), max_size=2),
    st.lists(st.integers(0, 2), min_size=1, max_size=2),
    st.just({"name": "alice", "role": "ADMIN"}),
    st.just({"name": "alice", "role": "NOBODY"}),
    st.just({"name": 3, "role": "ADMIN"}),
    st.just(datetime(2026, 1, 2, 3, 4, 5, 678901)),
    st.just(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
)


def generic(data: dict[str, Any]) -> AuditEntry | str:
    """The reading without the compiled reader (its answer, or the error's type)."""

    def unavailable(_: Any) -> AuditEntry:
        raise ValueError

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(entry_module, "_decode_strict", unavailable)
        try:
            return from_record(data)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return type(exc).__name__


def test_sound_records_and_documents_take_the_compiled_path() -> None:
    for entry in ENTRIES:
        for data in (
            record(entry),
            {k: v for k, v in codec.audit_doc(entry).items() if k != "_id"},
        ):
            assert entry_module._decode_strict(data) == entry == generic(data)


@settings(max_examples=400, deadline=None)
@given(
    which=st.sampled_from(range(len(ENTRIES))),
    stored=st.booleans(),
    changes=st.dictionaries(st.sampled_from([f.name for f in FIELDS]), ODD_VALUES, max_size=3),
    dropped=st.sets(st.sampled_from([f.name for f in FIELDS]), max_size=2),
    extra=st.booleans(),
)
def test_the_compiled_reader_never_accepts_what_the_generic_reading_refuses(
    which: int, stored: bool, changes: dict[str, Any], dropped: set[str], extra: bool
) -> None:
    entry = ENTRIES[which]
    data = dict(record(entry))
    if stored:
        data = {k: v for k, v in codec.audit_doc(entry).items() if k != "_id"}
    data.update(changes)
    for name in dropped:
        data.pop(name, None)
    if extra:
        data["unexpected"] = 1
    expected = generic(data)
    try:
        compiled = entry_module._decode_strict(data)
    except (KeyError, ValueError, TypeError, AttributeError):
        return  # from_record falls back to the generic reading, which decides
    assert compiled == expected
    assert from_record(data) == expected


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
        seal(numbered_draft(1), sequence, GENESIS_HASH),
        user_id=user_id, reason=reason, user_agent=agent,
        actor=Actor(name, Role.ADMIN, issuer, subject, display),
        recipients=tuple(recipients), error_codes=tuple(codes), to_non_primary=flag,
        occurred_at=when, client_request_id=client,
    )  # fmt: skip
    expected = canonical_json(record(entry, hashed_only=True)).encode("utf-8")
    assert canonical_bytes(entry) == expected


@pytest.mark.parametrize(
    "actor",
    [
        {"name": "a", "role": "ADMIN", "issuer": None},  # null would hash like absent
        {"name": "a", "role": "ADMIN", "subject": 7},
        {"name": "a", "role": "ADMIN", "email": "a@x"},  # not a key of the actor
        {"role": "ADMIN", "subject": "s"},
    ],
)
def test_a_strict_read_refuses_a_malformed_actor(actor: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        actor_from(actor)

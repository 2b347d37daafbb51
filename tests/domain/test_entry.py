"""The one definition of an audit entry, and what depends on it staying put."""

from __future__ import annotations

from datetime import UTC, datetime

from app.api.schema import schema
from app.api.types import AuditEvent, graphql_attribute
from app.domain.chain import entry_hash, seal
from app.domain.entry import FIELDS, AuditDraft, from_record, record
from app.domain.errors import UserErrorCode
from app.domain.export import CSV_COLUMNS
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta, Role


def draft(**meta: str | None) -> AuditDraft:
    return AuditDraft(
        occurred_at=datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC),
        action=AuditAction.SEND_INFO,
        outcome=AuditOutcome.REJECTED,
        error_codes=(UserErrorCode.INVALID_EMAIL, UserErrorCode.NOT_ENABLED),
        user_id="u00007",
        bridge_id=None,
        previous_conference_id="8390146",
        new_conference_id=None,
        meta=RequestMeta(Actor("alice", Role.ADMIN), "203.0.113.7", 'curl/8 "q"', "r-1", **meta),
        reason="née – ünïcode\nline two",
        recipients=("a@x.example", "ü@y.example"),
        to_non_primary=True,
        operation_id="op_1",
    )


def test_entries_without_new_fields_hash_as_they_always_did() -> None:
    """Computed by the first release (f9b370c) for the same entry: old trails verify."""
    entry = seal(draft(), 42, "ab" * 32)
    assert entry.hash == "d069d8d6c323f1742818c67dc4b4a9eec44f375f7e051493611d2aa45bff835c"
    assert entry_hash(entry) == entry.hash
    assert "clientRequestId" not in record(entry)


def test_a_new_field_is_hashed_when_present() -> None:
    with_client = seal(draft(client_request_id="ticket-4711"), 42, "ab" * 32)
    assert with_client.hash != seal(draft(), 42, "ab" * 32).hash
    assert record(with_client)["clientRequestId"] == "ticket-4711"
    assert from_record(record(with_client)) == with_client


def test_every_entry_field_is_in_the_graphql_type_with_its_description() -> None:
    graphql = schema._schema.type_map["AuditEvent"].fields  # type: ignore[attr-defined]
    by_attribute = {f.python_name: f for f in AuditEvent.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    for field in FIELDS:
        strawberry_field = by_attribute[graphql_attribute(field)]
        assert strawberry_field.description == field.description
        assert strawberry_field.graphql_name is None or strawberry_field.graphql_name in graphql


def test_every_entry_field_is_a_csv_column() -> None:
    named = {column.removeprefix("actor").lower() for column in CSV_COLUMNS}
    for field in FIELDS:
        assert field.name in CSV_COLUMNS or field.name == "actor", field.name
    assert {"name", "role"} <= named

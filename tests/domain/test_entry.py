"""The one definition of an audit entry, and what depends on it staying put."""

from __future__ import annotations

from dataclasses import replace

from app.api.schema import schema
from app.api.types import Actor as GraphQLActor
from app.api.types import AuditEvent, graphql_attribute
from app.domain.chain import entry_hash, seal
from app.domain.encoding import canonical_bytes, from_record, record
from app.domain.entry import ACTOR, FIELDS
from app.domain.export import CSV_COLUMNS, csv_row, read_export
from app.domain.models import Actor, Role
from tests.support.entries import draft

PERSON = Actor(
    "alice@example.test",
    Role.ADMIN,
    issuer="https://login.example/tenant/v2.0",
    subject="0f3c-alice",
    display_name="Alice Ädmin",
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
    for field in FIELDS:
        assert field.name in CSV_COLUMNS or field.name == "actor", field.name
    actor_columns = [c for c in CSV_COLUMNS if c.startswith("actor")]
    assert actor_columns == [
        "actorName", "actorRole", "actorIssuer", "actorSubject", "actorDisplayName"
    ]  # fmt: skip


def test_a_person_is_hashed_with_their_identity() -> None:
    """The encoding-3 actor, pinned: sorted keys inside the actor object too (the hash was
    computed independently with json.dumps(sort_keys=True) over the same entry)."""
    entry = seal(replace(draft(), meta=replace(draft().meta, actor=PERSON)), 42, "ab" * 32)
    assert entry.hash == "955aa20dc97819f8941ccd6c37d3e53890b4ddd31f03512ad0c89a56371aaea6"
    assert (
        b'"actor":{"displayName":"Alice \xc3\x84dmin","issuer":"https://login.example/tenant/'
        b'v2.0","name":"alice@example.test","role":"ADMIN","subject":"0f3c-alice"}'
        in canonical_bytes(entry)
    )
    assert record(entry)["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": "https://login.example/tenant/v2.0",
        "subject": "0f3c-alice",
        "displayName": "Alice Ädmin",
    }
    assert from_record(record(entry)) == entry
    # Every identity key counts: dropping any one changes the hash.
    for attribute in ("issuer", "subject", "display_name"):
        edited = replace(entry, actor=replace(PERSON, **{attribute: None}))
        assert entry_hash(edited) != entry.hash, attribute


def test_a_static_token_actor_has_no_identity_keys() -> None:
    entry = seal(draft(), 42, "ab" * 32)
    assert record(entry)["actor"] == {"name": "alice", "role": "ADMIN"}
    assert b'"actor":{"name":"alice","role":"ADMIN"}' in canonical_bytes(entry)


def test_a_person_round_trips_through_a_csv_row() -> None:
    from app.domain.export import comment_line, csv_text

    entry = seal(replace(draft(), meta=replace(draft().meta, actor=PERSON)), 1, "00" * 32)
    static = seal(draft(), 2, entry.hash)
    text = (
        comment_line("manifest", {"format": "confid-audit-export/3", "count": 2})
        + csv_text(CSV_COLUMNS)
        + csv_text(csv_row(entry))
        + csv_text(csv_row(static))
        + comment_line("end", {"count": 2})
    )
    read = [v[1] for k, v in read_export(text.splitlines(keepends=True)) if k == "entry"]
    assert read == [entry, static]


def test_every_actor_key_is_in_the_graphql_type_with_its_description() -> None:
    by_attribute = {f.python_name: f for f in GraphQLActor.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    for key in ACTOR:
        assert by_attribute[key.attribute].description == key.description
    assert GraphQLActor.of(PERSON).display_name == "Alice Ädmin"

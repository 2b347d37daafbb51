"""The GraphQL documents the CLI sends (app.cli.operations) are files of
graphql/operations/, and its choices are the schema's enum values."""

from __future__ import annotations

import re

from app.cli.main import cli
from tests.support.api import OPERATIONS, ROOT


def _sdl_enum(name: str) -> set[str]:
    sdl = (ROOT / "graphql" / "schema.graphql").read_text()
    body = re.search(rf"enum {name} {{(.*?)}}", sdl, re.S)
    assert body is not None
    return set(re.findall(r"^\s+([A-Z_]+)$", body.group(1), re.M))


def test_choices_are_the_schemas_enum_values() -> None:
    audit = cli.commands["audit"]
    events = audit.commands["events"]  # type: ignore[attr-defined]
    params = {p.name: p for p in events.params}
    assert set(params["action"].type.choices) == _sdl_enum("AuditAction")
    assert set(params["outcome"].type.choices) == _sdl_enum("AuditOutcome")
    listing = cli.commands["notifications"].commands["list"]  # type: ignore[attr-defined]
    kind = next(p for p in listing.params if p.name == "kind")
    assert set(kind.type.choices) == _sdl_enum("NotificationKind")


def test_every_operation_the_cli_sends_is_a_file_of_graphql_operations() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "app" / "cli").glob("*.py"))
    names = set(re.findall(r'(?:run|mutate|find_user|fetch)\(\s*(?:session,\s*)?"(\w+)"', source))
    names |= set(re.findall(r'^\s+"([A-Z]\w+)",$', source, re.M))
    assert {"GetUser", "ListUsers", "ResetConferenceId", "ListAuditEvents"} <= names
    missing = [n for n in names if not (OPERATIONS / f"{n}.graphql").is_file()]
    assert missing == []

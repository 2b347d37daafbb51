"""graphql/: each example operation is valid, named after its file, and runs; the SDL is current."""

from __future__ import annotations

import json

import pytest
from graphql import OperationDefinitionNode, parse, validate

from app.api.schema import schema
from tests.support.api import OPERATION_NAMES, ROOT, Api, is_subscription, operation


def test_every_root_field_has_an_operation() -> None:
    covered = set()
    for name in OPERATION_NAMES:
        for definition in parse(operation(name)).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            covered |= {s.name.value for s in definition.selection_set.selections}  # type: ignore[attr-defined]
    roots = set(schema.as_str().split("type Query {")[1].split("}")[0].split()) | set()
    query_fields = {f for f in schema._schema.query_type.fields}  # type: ignore[union-attr]
    mutation_fields = {f for f in schema._schema.mutation_type.fields}  # type: ignore[union-attr]
    subscription_fields = {f for f in schema._schema.subscription_type.fields}  # type: ignore[union-attr]
    assert roots
    assert query_fields | mutation_fields | subscription_fields <= covered


@pytest.mark.parametrize("name", OPERATION_NAMES)
def test_operation_is_valid_and_named_after_its_file(name: str) -> None:
    document = parse(operation(name))
    assert validate(schema._schema, document) == []
    (definition,) = document.definitions
    assert isinstance(definition, OperationDefinitionNode)
    assert definition.name is not None and definition.name.value == name
    assert "# variables:" in operation(name)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in OPERATION_NAMES
        if not operation(n).lstrip("# \n").count("mutation ") and not is_subscription(n)
    ],
)
async def test_read_operations_run_for_an_admin(api: Api, name: str) -> None:
    user = await api.enabled_user()
    line = next(x for x in operation(name).splitlines() if x.startswith("# variables:"))
    variables = json.loads(line.removeprefix("# variables:"))
    for key, value in list(variables.items()):
        if key in ("userId", "id") and isinstance(value, str):
            variables[key] = user["id"]
        if key == "email":
            variables = {"email": user["email"]}
        if key == "after":
            variables.pop(key)
    result = await api.gql(operation(name), variables)
    assert "errors" not in result, result


def test_exported_sdl_is_current() -> None:
    exported = (ROOT / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert exported.strip() == schema.as_str().strip(), "run scripts/export-schema"


def test_no_python_in_graphql_folder() -> None:
    assert list((ROOT / "graphql").rglob("*.py")) == []

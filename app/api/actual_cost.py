"""The actual cost of an executed operation: the static model's prices applied to what the
result holds (a page of 100 that returned 12 users costs 12 users), so the bucket gives
back what a request was charged but did not use."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
)

from app.api.cost import INTROSPECTION, ZERO, Points
from app.api.field_costs import FIELD_COSTS, FREE

_Collected = dict[str, list[tuple[FieldNode, GraphQLNamedType | None]]]


class _Spent:
    """Walks result data alongside the operation's selections. Field collection is
    memoized per (selection sets, type), as graphql-core's executor collects fields, so
    fragments spread many times are looked at once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.collected: dict[tuple[tuple[int, ...], str | None], _Collected] = {}

    def collect(
        self, selection_sets: list[SelectionSetNode], parent: GraphQLNamedType | None
    ) -> _Collected:
        key = (tuple(id(s) for s in selection_sets), parent.name if parent else None)
        found = self.collected.get(key)
        if found is None:
            found = {}
            visited: set[str] = set()
            for selection_set in selection_sets:
                self._collect(selection_set, parent, found, visited)
            self.collected[key] = found
        return found

    def _collect(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        into: _Collected,
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                into.setdefault(key, []).append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                named = self.schema.get_type(condition.name.value) if condition else parent
                self._collect(selection.selection_set, named, into, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if name in visited or definition is None:
                    continue
                visited.add(name)
                named = self.schema.get_type(definition.type_condition.name.value)
                self._collect(definition.selection_set, named, into, visited)

    def object(
        self, data: dict[str, Any], sets: list[SelectionSetNode], parent: GraphQLNamedType | None
    ) -> Points:
        spent = ZERO
        for key, nodes in self.collect(sets, parent).items():
            if key not in data:
                continue  # a fragment for another type, or @skip
            node, owner = nodes[0]
            name = node.name.value
            if name.startswith("__"):
                spent = spent.plus(Points(INTROSPECTION.get(name, 0)))
                continue
            definition = (
                owner.fields.get(name)
                if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType)
                else None
            )
            if definition is None or owner is None:
                continue
            declared = FIELD_COSTS.get(f"{owner.name}.{name}", FREE)
            spent = spent.plus(Points(declared.own, 1 if declared.scans_trail else 0))
            named = get_named_type(definition.type)
            if is_composite_type(named):
                inner = [n.selection_set for n, _ in nodes if n.selection_set]
                spent = spent.plus(self.value(data[key], inner, named))
        return spent

    def value(self, value: Any, sets: list[SelectionSetNode], named: GraphQLNamedType) -> Points:
        if isinstance(value, dict):
            return Points(1).plus(self.object(value, sets, named))
        if isinstance(value, list):
            spent = ZERO
            for item in value:
                spent = spent.plus(self.value(item, sets, named))
            return spent
        return ZERO  # null: nothing was returned


def actual_points(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    data: dict[str, Any] | None,
) -> Points:
    """What the result holds, priced like the static model."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (
            o
            for o in operations
            if (operation_name is None and len(operations) == 1)
            or (o.name is not None and o.name.value == operation_name)
        ),
        None,
    )
    if chosen is None or not data:
        return ZERO
    root = schema.get_root_type(chosen.operation)
    return _Spent(schema, document).object(data, [chosen.selection_set], root)

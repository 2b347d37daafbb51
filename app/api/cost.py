"""The cost model: one walk of a document gives each operation's depth, aliases, expanded
size and static cost, computing each fragment's figures once, so the walk stays linear in
the document however its fragments spread one another.

Points (GitHub/Shopify style): every object returned costs 1, scalars nothing; a paged
field multiplies what its page holds by `first` (20 when absent); fields that do more
work declare it in `app.api.field_costs`. Fields that scan the whole audit trail are
counted apart (`Points.scans`): the request multiplies them by the trail's current length
(`scan_points`), so the cached static figures never go stale as the trail grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

from app.api.field_costs import FIELD_COSTS, FREE, PAGE
from app.api.pagination import DEFAULT_PAGE, MAX_PAGE
from app.domain.errors import QueryTooComplex

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_FIELDS = 2000  # fields selected once every fragment is expanded (as many as tokens)
# Introspection, whatever is selected: `__schema` walks the whole schema (a full
# introspection query is ~130 KB of JSON and ~40 ms of this process's time), `__type` one
# type. Priced so that one request holds at most five whole-schema walks (aliases).
INTROSPECTION = {"__schema": 200, "__type": 10}
ENTRIES_PER_POINT = 10  # a scan of the trail costs 1 point per 10 entries ...
CAP = 2**62  # figures saturate here (a fragment bomb multiplies past any useful number)


def _cap(value: int) -> int:
    return value if value < CAP else CAP


@dataclass(frozen=True, slots=True)
class Points:
    """Static points, plus how many times the whole audit trail is scanned."""

    points: int = 0
    scans: int = 0

    def plus(self, other: Points) -> Points:
        return Points(_cap(self.points + other.points), _cap(self.scans + other.scans))

    def times(self, factor: int) -> Points:
        return Points(_cap(self.points * factor), _cap(self.scans * factor))

    def total(self, per_scan: int) -> int:
        """The points with each scan priced at `per_scan`."""
        return _cap(self.points + self.scans * per_scan)


ZERO = Points()


def scan_points(trail_length: int, max_query_cost: int) -> int:
    """What one scan of a trail of this length costs: 1 point per 10 entries, at most half
    the maximum query cost, so that one verification (or evidence pack) always fits."""
    return min(-(-trail_length // ENTRIES_PER_POINT), max_query_cost // 2)


@dataclass(slots=True)
class _Figures:
    """Of one selection set: depth below it, aliases and fields in it (fragments expanded
    with multiplicity), points fixed and points per item of the enclosing page."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    fixed: Points = ZERO
    paged: Points = ZERO

    def add(self, other: _Figures) -> None:
        self.depth = max(self.depth, other.depth)
        self.aliases = _cap(self.aliases + other.aliases)
        self.fields = _cap(self.fields + other.fields)
        self.fixed = self.fixed.plus(other.fixed)
        self.paged = self.paged.plus(other.paged)


@dataclass(frozen=True, slots=True)
class OperationFigures:
    """What the cost rule found for one operation."""

    name: str | None
    depth: int
    aliases: int
    fields: int
    cost: Points
    page_variables: frozenset[str]  # `first: $x`: the cost depends on these variables

    def problems(self) -> list[str]:
        """The limits this operation breaks, as messages for the client."""
        found = []
        if self.depth > MAX_DEPTH:
            found.append(
                f"The query's depth is {self.depth}; the maximum depth is {MAX_DEPTH} "
                "(introspection not counted)."
            )
        if self.aliases > MAX_ALIASES:
            found.append(
                f"The query uses {_count(self.aliases)} aliases; at most {MAX_ALIASES} allowed."
            )
        if self.fields > MAX_FIELDS:
            found.append(
                f"The query selects {_count(self.fields)} fields once its fragments are "
                f"expanded; at most {MAX_FIELDS} allowed."
            )
        return found


def _count(value: int) -> str:
    return f"{value:,}" if value < CAP else "more than 4 * 10^18"


@dataclass(slots=True)
class Analysis:
    """Every operation of a document, and how many selections the walk visited."""

    operations: dict[str | None, OperationFigures] = field(default_factory=dict)
    visits: int = 0
    too_deep: bool = False  # nested past what the walk can follow: refused as too complex

    def operation(self, name: str | None) -> OperationFigures | None:
        if name is None and len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return self.operations.get(name)


class _Walker:
    """One pass over a document. Fragment figures are memoized per walk; with `variables`
    given, `first: $x` is resolved, else it counts as a full page and is noted."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.defaults = defaults or {}
        self.memo: dict[tuple[str, bool], _Figures] = {}
        self.page_variables: set[str] = set()
        self.visits = 0

    def operation(self, operation: OperationDefinitionNode) -> tuple[_Figures, frozenset[str]]:
        """The operation's figures and the variables its cost depends on. A fragment
        shared with an earlier operation is not walked again, so this takes every page
        variable noted so far that the operation declares (at worst one too many, which
        costs only a second walk with the real values)."""
        root = self.schema.get_root_type(operation.operation)
        figures = self.selections(operation.selection_set, root, False)
        declared = {v.variable.name.value for v in operation.variable_definitions or ()}
        return figures, frozenset(declared & self.page_variables)

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, meta: bool
    ) -> _Figures:
        result = _Figures()
        if selection_set is None:
            return result
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                result.add(self.field(selection, parent, meta))
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type(selection.type_condition) or parent
                result.add(self.selections(selection.selection_set, condition, meta))
            elif isinstance(selection, FragmentSpreadNode):
                result.add(self.fragment(selection.name.value, meta))
        return result

    def fragment(self, name: str, meta: bool) -> _Figures:
        key = (name, meta)
        known = self.memo.get(key)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        self.memo[key] = _Figures()  # a cycle (refused by another rule) adds nothing
        if definition is None:
            return self.memo[key]  # unknown fragment: KnownFragmentNamesRule reports it
        figures = self.selections(
            definition.selection_set, self._type(definition.type_condition), meta
        )
        self.memo[key] = figures
        return figures

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, meta: bool) -> _Figures:
        name = node.name.value
        aliases = 1 if node.alias else 0
        if name.startswith("__"):  # introspection: neither depth nor points inside it
            inner = self.selections(node.selection_set, None, True)
            walk = 0 if meta else INTROSPECTION.get(name, 0)
            return _Figures(0, aliases + inner.aliases, 1 + inner.fields, Points(walk), ZERO)
        definition = (
            parent.fields.get(name)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        named = get_named_type(definition.type) if definition else None
        inner = self.selections(
            node.selection_set, named if is_composite_type(named) else None, meta
        )
        figures = _Figures(
            0 if meta else 1 + inner.depth, _cap(aliases + inner.aliases), _cap(1 + inner.fields)
        )
        if meta or definition is None or parent is None:
            return figures  # unknown field: FieldsOnCorrectTypeRule reports it
        declared = FIELD_COSTS.get(f"{parent.name}.{name}", FREE)
        own = Points(declared.own, 1 if declared.scans_trail else 0)
        each = Points(1 if is_composite_type(named) else 0).plus(inner.fixed)
        if "first" in definition.args:  # a connection: its page holds `first` items
            figures.fixed = own.plus(each).plus(inner.paged.times(self.page(node)))
        elif not is_list_type(get_nullable_type(definition.type)):
            figures.fixed = own.plus(each)
            figures.paged = inner.paged
        elif declared.items == PAGE:
            figures.fixed = own
            figures.paged = each.plus(inner.paged.times(MAX_PAGE))
        else:
            figures.fixed = own.plus(each.times(declared.items))
            figures.paged = inner.paged.times(declared.items)
        return figures

    def page(self, node: FieldNode) -> int:
        """The `first` of a paged field: a literal, a variable's value, or the default."""
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is None or isinstance(argument.value, NullValueNode):
            return DEFAULT_PAGE
        value: Any = argument.value
        if isinstance(value, IntValueNode):
            size = int(value.value)
        elif isinstance(value, VariableNode):
            name = value.name.value
            if self.variables is None:
                self.page_variables.add(name)
                return MAX_PAGE
            raw = self.variables.get(name, self.defaults.get(name))
            if raw is None:
                return DEFAULT_PAGE
            size = raw if isinstance(raw, int) and not isinstance(raw, bool) else MAX_PAGE
        else:
            return MAX_PAGE  # not an Int: refused by validation anyway
        return max(0, min(size, MAX_PAGE))

    def _type(self, condition: NamedTypeNode | None) -> GraphQLNamedType | None:
        if condition is None:
            return None
        named = self.schema.get_type(condition.name.value)
        return named if is_composite_type(named) else None


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def analyse(schema: GraphQLSchema, document: DocumentNode) -> Analysis:
    """Depth, aliases, expanded size and static points of every operation: one walk,
    fragments shared between operations. Never raises for an invalid document: what
    graphql-core's own rules refuse (unknown fields, fragments, cycles) adds nothing."""
    analysis = Analysis()
    walker = _Walker(schema, document, None)
    try:
        for operation in _operations(document):
            figures, variables = walker.operation(operation)
            name = operation.name.value if operation.name else None
            analysis.operations[name] = OperationFigures(
                name,
                figures.depth,
                figures.aliases,
                figures.fields,
                figures.fixed.plus(figures.paged.times(DEFAULT_PAGE)),
                variables,
            )
    except RecursionError:
        analysis.too_deep = True
    analysis.visits = walker.visits
    return analysis


def page_values(variables: Mapping[str, Any], names: frozenset[str]) -> dict[str, int | None]:
    """The values of the `first: $x` variables `names` as pricing reads them: an Int
    clamped to the page range, None for null, MAX_PAGE for anything else (refused later by
    coercion). Unset variables are left out, so their defaults apply. Small and bounded
    whatever was sent: what the cache of priced operations is keyed by."""
    values: dict[str, int | None] = {}
    for name in sorted(names):
        if name not in variables:
            continue
        raw = variables[name]
        if raw is None:
            values[name] = None
        elif isinstance(raw, int) and not isinstance(raw, bool):
            values[name] = max(0, min(raw, MAX_PAGE))
        else:
            values[name] = MAX_PAGE
    return values


def priced(
    schema: GraphQLSchema,
    document: DocumentNode,
    figures: OperationFigures,
    variables: Mapping[str, Any],
) -> Points:
    """The operation's points with its `first: $x` variables resolved (a second walk, of
    this operation only, when the figures depend on variables)."""
    if not figures.page_variables:
        return figures.cost
    operation = next(
        o for o in _operations(document) if (o.name.value if o.name else None) == figures.name
    )
    defaults = {
        v.variable.name.value: int(v.default_value.value)
        for v in operation.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    walker = _Walker(schema, document, variables, defaults)
    try:
        result, _ = walker.operation(operation)
    except RecursionError:  # pragma: no cover - analyse() refused such a document first
        return figures.cost
    return result.fixed.plus(result.paged.times(DEFAULT_PAGE))


class CostRule(ValidationRule):
    """The validation rule: refuses operations past the depth, alias or size limits
    (QUERY_TOO_COMPLEX) and leaves the analysis in `found` for the cost check."""

    found: list[Analysis]  # set per validation by `bound_rule`

    def enter_document(self, node: DocumentNode, *_args: object) -> object:
        analysis = analyse(self.context.schema, node)
        type(self).found.append(analysis)
        if analysis.too_deep:
            self._refuse("The query nests selections or fragments too deeply.", [node])
        for operation in _operations(node):
            figures = analysis.operation(operation.name.value if operation.name else None)
            for message in figures.problems() if figures else ():
                self._refuse(message, [operation])
        return BREAK

    def _refuse(self, message: str, nodes: list[Any]) -> None:
        self.report_error(GraphQLError(message, nodes, original_error=QueryTooComplex(message)))


def bound_rule(sink: list[Analysis]) -> type[CostRule]:
    """A CostRule class that leaves its analysis in `sink` (graphql-core instantiates rule
    classes itself, so the result comes back through the class)."""
    return type("CostRule", (CostRule,), {"found": sink})

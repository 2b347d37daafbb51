"""Query analysis time: the worst documents that fit under the 2,000-token limit.

    python -m bench.analysis [--repeat N]   (prints JSON)

For each document: its tokens and size, graphql-core's own validation rules alone, the
cost rule alone (`app.api.cost.analyse`: depth, aliases, expanded size and points in one
memoized walk), and the whole uncached validation confid runs (both together), in
milliseconds, best of `--repeat`; and what confid answers (accepted, or the limit that
refuses it). Strawberry's former depth and alias validators are timed on the fan-out
document at small sizes for contrast (they re-walk every spread: 2^levels).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import (
    GraphQLSyntaxError,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from app.api.cost import analyse
from app.api.limits import MAX_TOKENS, _tokens, _validate
from app.api.schema import schema
from app.settings import Settings


def _accepted_by_parser(query: str) -> bool:
    """Within the token limit, and not nested past what graphql-core's parser takes."""
    if _tokens(query, MAX_TOKENS + 1) > MAX_TOKENS:
        return False
    try:
        parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError:
        return False
    return True


def _fits(build: Callable[[int], str], low: int = 1, high: int = 5000) -> str:
    """The largest document `build(n)` that gets past the parser."""
    while low < high:
        middle = (low + high + 1) // 2
        if _accepted_by_parser(build(middle)):
            low = middle
        else:
            high = middle - 1
    return build(low)


def fan_out(levels: int, spreads: int = 2) -> str:
    body = " ".join(
        f"fragment F{i} on Viewer {{ {' '.join([f'...F{i + 1}'] * spreads)} }}"
        for i in range(levels)
    )
    return f"query {{ viewer {{ ...F0 }} }} {body} fragment F{levels} on Viewer {{ name }}"


def alias_flood(count: int) -> str:
    return "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(count)) + " }"


def alias_fan_out(levels: int) -> str:
    body = " ".join(
        f"fragment A{i} on Query {{ a{i}: viewer {{ name }} ...A{i + 1} ...A{i + 1} }}"
        for i in range(levels)
    )
    return f"query {{ ...A0 }} {body} fragment A{levels} on Query {{ viewer {{ role }} }}"


def deep_nesting(levels: int) -> str:
    path = "latestAuditEvent { user { " * levels
    return '{ node(id: "x") { ... on User { ' + path + "id" + " } }" * levels + " } } }"


def nested_pages(count: int) -> str:
    page = (
        "users(first: 100) { edges { node { conferenceIdHistory(first: 100) "
        "{ edges { node { sequence actor { name } } } } } } }"
    )
    return "{ " + " ".join(f"p{i}: {page}" for i in range(count)) + " }"


DOCUMENTS: list[tuple[str, Callable[[], str]]] = [
    ("fan-out fragments, 2 spreads a level", lambda: _fits(fan_out)),
    ("fan-out fragments, 20 spreads a level", lambda: _fits(lambda n: fan_out(n, 20))),
    ("alias flood", lambda: _fits(alias_flood)),
    ("aliases in fan-out fragments", lambda: _fits(alias_fan_out)),
    ("deep nesting", lambda: _fits(deep_nesting)),
    ("30 aliases of nested pages of 100 x 100", lambda: nested_pages(30)),
    ("GraphiQL's introspection query", get_introspection_query),
]


def _best_ms(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return round(best * 1000, 3)


def _verdict(query: str, points: int) -> str:
    _validate.cache_clear()
    errors, _ = _validate(schema._schema, query, tuple(specified_rules))
    if errors:
        return "refused: " + "; ".join(sorted({e.message.split(";")[0][:90] for e in errors}))
    if points > Settings().max_query_cost:
        return f"refused: costs {points:,} points (at most {Settings().max_query_cost:,})"
    return f"accepted: {points:,} points"


def measure(repeat: int) -> dict[str, Any]:
    graphql_schema = schema._schema
    rows = []
    for title, build in DOCUMENTS:
        query = build()
        document = parse(query, max_tokens=MAX_TOKENS)
        analysis = analyse(graphql_schema, document)
        operation = next(iter(analysis.operations.values()))

        def whole(query: str = query) -> object:
            _validate.cache_clear()
            return _validate(graphql_schema, query, tuple(specified_rules))

        rows.append(
            {
                "document": title,
                "tokens": _tokens(query, 10**6),
                "bytes": len(query.encode()),
                "graphql_core_rules_ms": _best_ms(
                    partial(validate, graphql_schema, document), repeat
                ),
                "cost_rule_ms": _best_ms(partial(analyse, graphql_schema, document), repeat),
                "validation_total_ms": _best_ms(whole, repeat),
                "visits": analysis.visits,
                "depth": operation.depth,
                "aliases": operation.aliases,
                "fields_expanded": operation.fields,
                "points": operation.cost.points,
                "verdict": _verdict(query, operation.cost.points),
            }
        )
    contrast = []
    old_rules = (depth_validator(10, None), alias_validator(30))
    for levels in (10, 12, 14, 16):
        document = parse(fan_out(levels))
        contrast.append(
            {
                "levels": levels,
                "strawberry_validators_ms": _best_ms(
                    partial(validate, graphql_schema, document, old_rules), 1
                ),
                "cost_rule_ms": _best_ms(partial(analyse, graphql_schema, document), repeat),
            }
        )
    return {"documents": rows, "former_validators": contrast}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.analysis")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(measure(args.repeat)))


if __name__ == "__main__":
    main()

"""Documented request limits, and the one extension that enforces them and caches
parsing and validation (each Strawberry extension costs something on every request)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, parse
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.types import ExecutionContext

from app.api.exchange import Exchange, note_operation

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30
MAX_JSON_NESTING = 64

# Built once at import: ValidationCache keys on the rule classes, so they must not be
# re-created per request. Introspection fields are not counted (GraphiQL keeps working).
_RULES: tuple[type[ASTValidationRule], ...] = (
    depth_validator(MAX_DEPTH, None),
    alias_validator(MAX_ALIASES),
)


CACHE_SIZE = 256
_parse = lru_cache(maxsize=CACHE_SIZE)(parse)


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: object, document: object, rules: tuple[type[ASTValidationRule], ...]
) -> object:
    from strawberry.schema.schema import validate_document

    return validate_document(schema, document, rules)  # type: ignore[arg-type]


class RequestPipeline(SchemaExtension):
    """Token limit, depth and alias rules, and LRU caches of parse and validate results.

    A repeated query text (clients send variables, not literals) skips graph-core's
    parse and validate entirely; the caches are bounded, so odd queries cannot grow them.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        context.validation_rules = context.validation_rules + _RULES
        try:
            yield
        finally:  # the access log and metrics name the operation that ran
            exchange = getattr(context.context, "exchange", None)
            if isinstance(exchange, Exchange):
                note_operation(exchange, context.operation_name, _operation_type(context))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = _validate(  # type: ignore[assignment]
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield


def _operation_type(context: ExecutionContext) -> str | None:
    """query, mutation or subscription; None when the document did not parse or names no
    such operation."""
    try:
        return context.operation_type.value
    except RuntimeError:
        return None

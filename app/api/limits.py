"""Documented request limits, and the validation rules that enforce them (built once)."""

from __future__ import annotations

from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

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


class QueryLimits(AddValidationRules):
    """Adds the depth and alias rules (tokens are limited by the parser)."""

    def __init__(self) -> None:
        super().__init__(list(_RULES))

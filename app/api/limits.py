"""Documented request limits, and the one extension that enforces them: the token limit,
the cost rule, the per-token rate limit, and the caches of parsing and analysis (each
Strawberry extension costs something on every request, so there is one).

A subscription (over the websocket, `app.api.live`) passes the same rules: a document over
SUBSCRIPTION_MAX_COST is refused before it starts, as a query over the maximum is (its
price is what resolving each event costs, which is not charged again); starting one takes
SUBSCRIPTION_COST points from the token's bucket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Lexer,
    Source,
    TokenKind,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.api.actual_cost import actual_points
from app.api.cost import (
    Analysis,
    OperationFigures,
    Points,
    bound_rule,
    page_values,
    priced,
    scan_points,
)
from app.api.exchange import Exchange, note_operation
from app.api.field_costs import SUBSCRIPTION
from app.api.throttle import ApiLimits, RequestBudget, retry_seconds
from app.domain.access import Principal
from app.domain.errors import QueryTooComplex, Throttled

# Depth, aliases, expanded size and the price list live with the cost rule (app.api.cost,
# app.api.field_costs); the maximum cost and the rate limits come from Settings.
MAX_BODY_BYTES = 1024 * 1024
MAX_TOKENS = 2000
MAX_JSON_NESTING = 64
CACHE_SIZE = 256
SAFE_INTEGER = 2**53 - 1  # the largest cost reported (JSON numbers are doubles in browsers)
SUBSCRIPTION_COST = SUBSCRIPTION  # points a subscription's start takes from its bucket
# The most a subscription document may cost (or CONFID_MAX_QUERY_COST, if lower): it is
# resolved again for every event and its events are not charged, so it is held to a tenth
# of a query's maximum (the example subscriptions and the admin page's feed cost 13).
SUBSCRIPTION_MAX_COST = 100


def _tokens(query: str, stop: int) -> int:
    """How many tokens (comments included, as graphql-core counts them) the query has,
    counting no further than `stop`; lexing errors end the count."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while count < stop:
            previous = lexer.token
            token = lexer.advance()
            skipped = previous.next
            while skipped is not None and skipped is not token:
                count += 1  # comments the lexer stepped over
                skipped = skipped.next
            if token.kind == TokenKind.EOF:
                break
            count += 1
    except GraphQLSyntaxError:
        pass
    return count


def parsed(query: str) -> DocumentNode:
    """The document, parsed once per query text (shared with the websocket's own checks);
    GraphQLError when it does not parse or is over MAX_TOKENS (QUERY_TOO_COMPLEX)."""
    return _parse(query)


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str) -> DocumentNode:
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError:
        # graphql-core reports its token limit as a syntax error; whether this document
        # is over the limit is decided here, by counting, not by reading the message.
        if _tokens(query, MAX_TOKENS + 1) > MAX_TOKENS:
            message = f"The query has more than {MAX_TOKENS} tokens."
            raise GraphQLError(message, original_error=QueryTooComplex(message)) from None
        raise


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[list[GraphQLError], Analysis]:
    """graphql-core's rules and the cost rule, once per query text (clients send variables,
    not literals, so a repeated document costs nothing to validate or analyse)."""
    from strawberry.schema.schema import validate_document

    found: list[Analysis] = []
    errors = validate_document(schema, _parse(query), (*rules, bound_rule(found)))
    return errors, found[0] if found else Analysis(too_deep=True)


@lru_cache(maxsize=CACHE_SIZE)
def _priced(schema: GraphQLSchema, query: str, figures: OperationFigures, values: str) -> Points:
    """Points of an operation whose pages come from variables, per distinct values."""
    return priced(schema, _parse(query), figures, json.loads(values))


class RequestPipeline(SchemaExtension):
    """Token limit, cost rule and rate limit, in front of execution; the cost figures in
    `extensions.cost` of every result."""

    def _budget(self) -> RequestBudget | None:
        budget: RequestBudget | None = getattr(self.execution_context.context, "budget", None)
        return budget

    def on_operation(self) -> Iterator[None]:
        budget = self._budget()
        if budget is not None:
            wait = budget.limits.limiter.wait(budget.principal, 1)
            if wait > 0:  # an empty bucket: not even parsed
                budget.retry_after = wait
                raise Throttled(throttled_message(budget), wait)
        context = self.execution_context
        try:
            yield
        finally:  # the access log and metrics name the operation that ran
            exchange = getattr(context.context, "exchange", None)
            if isinstance(exchange, Exchange):
                note_operation(exchange, context.operation_name, _operation_type(context))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = _parse(context.query or "")
        except GraphQLError as exc:  # a syntax error, or over MAX_TOKENS: refused, for a point
            self._charge_refusal()
            budget = self._budget()
            if budget is not None and _too_complex_error(exc):
                (priced,) = _price_refusals([exc], None, _maximum(budget.limits, budget.principal))
                raise priced from None
            raise
        yield

    def _charge_refusal(self) -> None:
        """A document refused before validation costs 1 point, as any refused one does."""
        budget = self._budget()
        if budget is not None:
            budget.take(1)
            budget.actual = budget.charged
            return
        caller = self._subscriber()
        if caller is not None:
            limits, principal = caller
            limits.limiter.take(principal, 1)

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        errors, analysis = _validate(schema, context.query or "", context.validation_rules)
        budget = self._budget()
        figures = analysis.operation(context.operation_name)
        named = getattr(context, "_provided_operation_name", None)
        if not errors and named is None and len(analysis.operations) > 1:
            # Strawberry would run the first one; the spec says to refuse.
            message = (
                "Must provide operation name if query contains multiple operations "
                "(set `operationName`)."
            )
            errors = [GraphQLError(message)]
        caller = self._subscriber() if budget is None else None
        if caller is not None:  # a subscription's start, over the websocket
            context.pre_execution_errors = await self._start(errors, figures, *caller)
            yield
            return
        if errors or budget is None or figures is None:
            if budget is not None:
                budget.take(1)  # a refused document still costs a point
                budget.actual = budget.charged
                errors = _price_refusals(errors, figures, _maximum(budget.limits, budget.principal))
                if figures is not None and any(_too_complex_error(e) for e in errors):
                    budget.requested = min(figures.cost.total(0), SAFE_INTEGER)
            context.pre_execution_errors = errors
            yield
            return
        limits = budget.limits
        points, budget.per_scan = await self._points(figures, limits)
        budget.requested = points
        context.pre_execution_errors = []
        maximum = _maximum(limits, budget.principal)
        if budget.requested > maximum:
            budget.take(1)
            budget.actual = budget.charged
            context.pre_execution_errors = [_too_complex(budget.requested, maximum)]
        elif not budget.take(budget.requested):
            message = throttled_message(budget)
            context.pre_execution_errors = [
                GraphQLError(message, original_error=Throttled(message, budget.retry_after or 1))
            ]
        yield

    async def _points(self, figures: OperationFigures, limits: ApiLimits) -> tuple[int, int]:
        """What the operation costs (at least 1), and what one scan of the trail costs in
        it (0 when it scans none)."""
        context = self.execution_context
        schema = context.schema._schema
        points = figures.cost
        if figures.page_variables:
            variables = context.variables or {}
            relevant = page_values(variables, figures.page_variables)  # bounded: a cache key
            points = _priced(schema, context.query or "", figures, json.dumps(relevant))
        per_scan = 0
        if points.scans:
            per_scan = scan_points(await limits.trail_length.get(), limits.max_query_cost)
        return max(1, points.total(per_scan)), per_scan

    def _subscriber(self) -> tuple[ApiLimits, Principal] | None:
        """The buckets and caller of a websocket connection (`LiveContext`), if this is one."""
        live = self.execution_context.context
        limits, principal = getattr(live, "limits", None), getattr(live, "principal", None)
        if isinstance(limits, ApiLimits) and isinstance(principal, Principal):
            return limits, principal
        return None

    async def _start(
        self,
        errors: list[GraphQLError],
        figures: OperationFigures | None,
        limits: ApiLimits,
        principal: Principal,
    ) -> list[GraphQLError]:
        """A subscription's start: the errors that refuse it, or none (and its
        SUBSCRIPTION_COST points taken). Like a query, a refused document costs a point, and
        one over the maximum cost never runs: each event would cost that much again."""
        limiter = limits.limiter
        if errors or figures is None:
            limiter.take(principal, 1)
            return _price_refusals(errors, figures, subscription_maximum(limits, principal))
        points, _ = await self._points(figures, limits)
        maximum = subscription_maximum(limits, principal)
        if points > maximum:
            limiter.take(principal, 1)
            return [_too_complex(points, maximum, "per subscription (each event costs it)")]
        wait = limiter.take(principal, SUBSCRIPTION_COST)
        if wait <= 0:
            return []
        retry = retry_seconds(wait)
        message = (
            f"Rate limit: this token's bucket lacks the {SUBSCRIPTION_COST} points a "
            f"subscription costs; retry in {retry} s (see `rateLimit`)."
        )
        return [GraphQLError(message, original_error=Throttled(message, wait))]

    def on_execute(self) -> Iterator[None]:
        yield
        budget = self._budget()
        context = self.execution_context
        result = context.result
        if budget is None or context.graphql_document is None:
            return
        data: Any = getattr(result, "data", None)
        spent = actual_points(
            context.schema._schema, context.graphql_document, context.operation_name, data
        )
        budget.settle(max(1, spent.total(budget.per_scan)))

    def get_results(self) -> dict[str, Any]:
        budget = self._budget()
        return {"cost": budget.extension()} if budget is not None else {}


def _maximum(limits: ApiLimits, principal: Principal) -> int:
    """The most one request of `principal` may cost: CONFID_MAX_QUERY_COST, or its token's
    whole bucket if that is smaller (a request larger than the bucket could never run)."""
    status = limits.limiter.status(principal)
    return min(limits.max_query_cost, status.limit if status else limits.max_query_cost)


def subscription_maximum(limits: ApiLimits, principal: Principal) -> int:
    """The most one subscription document of `principal` may cost."""
    return min(SUBSCRIPTION_MAX_COST, _maximum(limits, principal))


def _too_complex_error(error: GraphQLError) -> bool:
    return isinstance(error.original_error, QueryTooComplex)


def _price_refusals(
    errors: list[GraphQLError], figures: OperationFigures | None, maximum: int
) -> list[GraphQLError]:
    """The errors, where refusals by depth, aliases, size or tokens carry
    `extensions.cost` too, as a refusal by points does: what the operation would cost (null
    when it was not priced: too deep to walk, or not parsed) and the most this caller's
    request may cost. New errors: those given may be the validation cache's, shared by
    every caller."""
    requested = min(figures.cost.total(0), SAFE_INTEGER) if figures is not None else None
    priced: list[GraphQLError] = []
    for error in errors:
        if _too_complex_error(error) and "cost" not in (error.extensions or {}):
            cost = {"requestedQueryCost": requested, "maximumAvailable": maximum}
            error = GraphQLError(
                error.message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                error.original_error,
                {**(error.extensions or {}), "cost": cost},
            )
        priced.append(error)
    return priced


def _too_complex(requested: int, maximum: int, per: str = "per request") -> GraphQLError:
    message = (
        f"The query costs {requested} points; at most {maximum} are allowed "
        f"{per}. Ask for smaller pages (`first`) or fewer nested lists."
    )
    cost = {"requestedQueryCost": requested, "maximumAvailable": maximum}
    return GraphQLError(message, original_error=QueryTooComplex(message), extensions={"cost": cost})


def throttled_message(budget: RequestBudget) -> str:
    wanted = budget.requested or 1
    return (
        f"Rate limit: this token's bucket lacks the {wanted} point(s) this request costs; "
        f"retry in {budget.retry_after_seconds()} s (see `rateLimit` and extensions.cost)."
    )


def _operation_type(context: ExecutionContext) -> str | None:
    """query, mutation or subscription; None when the document did not parse or names no
    such operation."""
    try:
        return context.operation_type.value
    except RuntimeError:
        return None

"""The Strawberry schema: a module-level singleton, with its extensions and limits."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from app.api.bulk_types import BulkResetJob
from app.api.errors import INTERNAL, code_of
from app.api.field_costs import undeclared
from app.api.limits import RequestPipeline
from app.api.mutations import Mutation
from app.api.queries import Query
from app.api.scalars import DateTime
from app.api.subscriptions import Subscription
from app.api.types import AuditEvent, Bridge, Notification, User
from app.services.feed import SubscriberDropped

log = logging.getLogger("confid.api")


class ConfidSchema(strawberry.Schema):
    """Logs only unexpected errors (with their request id); client mistakes are not noise."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context: Any = execution_context.context if execution_context else None
        request_id = getattr(context, "request_id", "-")
        for error in errors:
            if isinstance(error.original_error, SubscriberDropped):
                continue  # expected: logged once as a warning when the socket is closed
            if code_of(error) == INTERNAL:
                log.error(
                    "internal error in request %s at %s",
                    request_id,
                    error.path,
                    exc_info=error.original_error or error,
                )


schema = ConfidSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Bridge, AuditEvent, Notification, BulkResetJob],
    scalar_overrides={datetime: DateTime},
    extensions=[RequestPipeline],
)

# Every root field, field with arguments, async field and list of objects has a price in
# app/api/field_costs.py; a new one without it stops confid at import, not in production.
_unpriced = undeclared(schema._schema)
if _unpriced:  # pragma: no cover - tests/api/test_field_costs.py names them first
    raise RuntimeError(f"fields without a cost in app/api/field_costs.py: {_unpriced}")

"""What each field costs (app.api.field_costs): every field that does work has a price."""

from __future__ import annotations

from app.api.field_costs import FIELD_COSTS, undeclared
from app.api.schema import schema


def test_every_field_that_does_work_has_a_price() -> None:
    assert undeclared(schema._schema) == []
    assert FIELD_COSTS["Mutation.resetConferenceId"].own >= 100
    assert FIELD_COSTS["Query.checkConferenceId"].own > 0  # row/item 6: not a free oracle


def test_a_new_unpriced_field_is_named() -> None:
    import strawberry

    @strawberry.type
    class Query:
        @strawberry.field
        async def expensive(self) -> list[int]:
            return []

    assert "Query.expensive" in undeclared(strawberry.Schema(query=Query)._schema)

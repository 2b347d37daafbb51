"""Relay connections: one generic page type for every list that can grow.

`Connection[User]` is named `UserConnection` in the schema and its edges `UserEdge`; a
list that needs more (a description of its order, `totalCount`) subclasses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(description="Where a page starts and ends, and whether more items lie beyond.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when `after: endCursor` gives more.")
    has_previous_page: bool = strawberry.field(
        description="True when this page was asked for `after` a cursor: items come before it."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first edge of this page (null when the page is empty)."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge of this page (null when the page is empty)."
    )


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list, in the list's order.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page lies in the list.")


def page(
    items: Iterable[tuple[str, T]], more: bool, after: str | None
) -> tuple[list[Edge[T]], PageInfo]:
    """The edges and PageInfo of a page of (cursor, node) pairs, for a Connection."""
    edges = [Edge(cursor=cursor, node=node) for cursor, node in items]
    info = PageInfo(
        has_next_page=more,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, info

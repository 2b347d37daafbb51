"""The users connection (directory order); the trail's connections live in `trail`."""

from __future__ import annotations

import strawberry

from app.api.types import PageInfo, User


@strawberry.type(description="A user and its cursor.")
class UserEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this user.")
    node: User = strawberry.field(description="The user.")


@strawberry.type(description="A page of users in directory order (display name, then id).")
class UserConnection:
    edges: list[UserEdge] = strawberry.field(description="The users of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more users follow.")

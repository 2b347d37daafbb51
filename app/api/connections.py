"""Relay connections: users in directory order, audit events and emails newest first."""

from __future__ import annotations

import strawberry

from app.api.types import AuditEvent, Notification, PageInfo, User


@strawberry.type(description="A user and its cursor.")
class UserEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this user.")
    node: User = strawberry.field(description="The user.")


@strawberry.type(description="A page of users in directory order (display name, then id).")
class UserConnection:
    edges: list[UserEdge] = strawberry.field(description="The users of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more users follow.")


@strawberry.type(description="An audit entry and its cursor.")
class AuditEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")
    node: AuditEvent = strawberry.field(description="The entry.")


@strawberry.type(description="A page of audit entries, newest first; stable while entries arrive.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Whether older entries follow.")


@strawberry.type(description="A notification and its cursor.")
class NotificationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this email.")
    node: Notification = strawberry.field(description="The recorded email.")


@strawberry.type(description="A page of recorded emails, newest first.")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="The emails of this page.")
    page_info: PageInfo = strawberry.field(description="Whether older emails follow.")

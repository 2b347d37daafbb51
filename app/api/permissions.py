"""Role checks as Strawberry permission extensions: `extensions=requires(Capability.X)`."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from app.api.context import Info
from app.domain.access import Capability


class Requires(BasePermission):
    """The caller's role must grant a capability; otherwise FORBIDDEN (or UNAUTHENTICATED),
    with a message naming the role and what it may not do."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require(self.capability)  # raises with the role's own words
        return True


def requires(capability: Capability) -> list[FieldExtension]:
    """The field extensions that guard a field with `capability` (no schema directive)."""
    return [PermissionExtension(permissions=[Requires(capability)], use_directives=False)]

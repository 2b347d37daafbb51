"""The per-request context: who is calling, the services, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from app.domain.access import Capability, Principal
from app.domain.errors import Forbidden, Unauthenticated
from app.domain.models import AuditEntry, Bridge, RequestMeta, User
from app.services.container import Services


@dataclass(slots=True)
class Context:
    """Built once per request by the HTTP view."""

    services: Services
    principal: Principal | None
    meta: RequestMeta | None
    request_id: str
    users: DataLoader[str, User | None] = field(init=False)
    bridges: DataLoader[str, Bridge | None] = field(init=False)
    audit_events: DataLoader[int, AuditEntry | None] = field(init=False)
    latest_events: DataLoader[str, AuditEntry | None] = field(init=False)

    def __post_init__(self) -> None:
        directory, audit = self.services.directory, self.services.audit

        async def load_users(keys: list[str]) -> list[User | None]:
            found = await directory.users_by_id(list(keys))
            return [found.get(k) for k in keys]

        async def load_bridges(keys: list[str]) -> list[Bridge | None]:
            found = {b.id: b for b in await directory.bridges()}
            return [found.get(k) for k in keys]

        async def load_events(keys: list[int]) -> list[AuditEntry | None]:
            found = await audit.events_by_sequence(list(keys))
            return [found.get(k) for k in keys]

        async def load_latest(keys: list[str]) -> list[AuditEntry | None]:
            found = await audit.latest_for_users(list(keys))
            return [found.get(k) for k in keys]

        self.users = DataLoader(load_fn=load_users)
        self.latest_events = DataLoader(load_fn=load_latest)
        self.bridges = DataLoader(load_fn=load_bridges)
        self.audit_events = DataLoader(load_fn=load_events)

    def require(self, capability: Capability) -> Principal:
        """The caller, if their role grants `capability`; FORBIDDEN otherwise."""
        if self.principal is None:
            raise Unauthenticated("Send `Authorization: Bearer <token>`.")
        if not self.principal.may(capability):
            raise Forbidden(
                f"The {self.principal.role.value.lower()} role may not {capability.value}."
            )
        return self.principal

    def request_meta(self) -> RequestMeta:
        """Who and where, for the audit trail."""
        if self.meta is None:
            raise Unauthenticated("Send `Authorization: Bearer <token>`.")
        return self.meta


Info = StrawberryInfo[Context, None]

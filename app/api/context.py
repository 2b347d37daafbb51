"""The per-request context: who is calling, the services, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from app.api.exchange import Exchange
from app.api.reads import AuditReads
from app.api.throttle import RequestBudget
from app.domain.access import Capability, Principal
from app.domain.entry import AuditEntry
from app.domain.errors import Forbidden, Unauthenticated
from app.domain.models import Bridge, RequestMeta, User
from app.services.container import Services


@dataclass(slots=True)
class Context:
    """Built once per request by the HTTP view; loaders are made on first use."""

    services: Services
    principal: Principal | None
    meta: RequestMeta | None
    request_id: str
    budget: RequestBudget | None = None  # this request's cost and rate limit
    exchange: Exchange | None = None  # what the access log and metrics report of the request
    _users: DataLoader[str, User | None] | None = field(default=None, init=False)
    _bridges: DataLoader[str, Bridge | None] | None = field(default=None, init=False)
    _events: DataLoader[int, AuditEntry | None] | None = field(default=None, init=False)
    _latest: DataLoader[str, AuditEntry | None] | None = field(default=None, init=False)
    audit_reads: AuditReads = field(default_factory=AuditReads, init=False)

    @property
    def users(self) -> DataLoader[str, User | None]:
        if self._users is None:
            directory = self.services.directory

            async def load(keys: list[str]) -> list[User | None]:
                found = await directory.users_by_id(list(keys))
                return [found.get(k) for k in keys]

            self._users = DataLoader(load_fn=load)
        return self._users

    @property
    def bridges(self) -> DataLoader[str, Bridge | None]:
        if self._bridges is None:
            directory = self.services.directory

            async def load(keys: list[str]) -> list[Bridge | None]:
                found = {b.id: b for b in await directory.bridges()}
                return [found.get(k) for k in keys]

            self._bridges = DataLoader(load_fn=load)
        return self._bridges

    @property
    def audit_events(self) -> DataLoader[int, AuditEntry | None]:
        if self._events is None:
            audit = self.services.audit

            async def load(keys: list[int]) -> list[AuditEntry | None]:
                found = await audit.events_by_sequence(list(keys))
                return [found.get(k) for k in keys]

            self._events = DataLoader(load_fn=load)
        return self._events

    @property
    def latest_events(self) -> DataLoader[str, AuditEntry | None]:
        if self._latest is None:
            audit = self.services.audit

            async def load(keys: list[str]) -> list[AuditEntry | None]:
                found = await audit.latest_for_users(list(keys))
                return [found.get(k) for k in keys]

            self._latest = DataLoader(load_fn=load)
        return self._latest

    def require(self, capability: Capability) -> Principal:
        """The caller, if their role grants `capability`; FORBIDDEN otherwise."""
        if self.principal is None:
            raise Unauthenticated("Send `Authorization: Bearer <token>`.")
        if not self.principal.may(capability):
            raise Forbidden(
                f"The {self.principal.role.value.lower()} role may not {capability.value}."
            )
        return self.principal

    def note_audit_read(self, what: str, details: dict[str, str]) -> None:
        """Collect a read of the trail; `flush_audit_reads` records them all at once."""
        self.request_meta()  # only an authenticated caller reads
        self.audit_reads.add(what, details)

    async def flush_audit_reads(self) -> None:
        """Write the request's one access-log record, if it read audit data at all."""
        if self.audit_reads and self.meta is not None:
            what, details = self.audit_reads.record()
            await self.services.audit.record_access(self.meta, what, details)

    def request_meta(self) -> RequestMeta:
        """Who and where, for the audit trail."""
        if self.meta is None:
            raise Unauthenticated("Send `Authorization: Bearer <token>`.")
        return self.meta


Info = StrawberryInfo[Context, None]

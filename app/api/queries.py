"""The Query root (SPEC §4), each field checking the caller's role first."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.api.activity import ActivityQuery
from app.api.bulk import BulkQuery
from app.api.bulk_types import BulkResetJob
from app.api.connections import Connection, page
from app.api.context import Info
from app.api.ids import require_id, split_node_id
from app.api.pagination import (
    DEFAULT_PAGE,
    AfterArg,
    FirstArg,
    check_first,
    decode_cursor,
    encode_cursor,
)
from app.api.permissions import requires
from app.api.ratelimit import RateLimitQuery
from app.api.results import ConferenceIdCheck, Viewer, user_errors
from app.api.trail import TrailQuery
from app.api.types import AuditEvent, Bridge, Node, Notification, User
from app.domain.access import Capability
from app.domain.errors import BadRequest
from app.domain.reads import UserKey

SEARCH_MAX = 200
ACTOR_MAX = 100
CONFERENCE_ID_INPUT_MAX = 64


def _bounded(value: str | None, name: str, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise BadRequest(f"`{name}` may have at most {limit} characters.")
    return value


@strawberry.type(description="A page of users in directory order (display name, then id).")
class UserConnection(Connection[User]):
    pass


@strawberry.type(description="Read access to users, bridges, conference IDs and the audit trail.")
class Query(TrailQuery, RateLimitQuery, BulkQuery, ActivityQuery):
    @strawberry.field(description="The caller: token name and role.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.require(Capability.READ_DIRECTORY)  # also returns who
        return Viewer(
            name=principal.name,
            role=principal.role,
            issuer=principal.issuer,
            subject=principal.subject,
            display_name=principal.display_name,
        )

    @strawberry.field(
        description="Any object by its global id (Relay); null when not found.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id.")]
    ) -> Node | None:
        ctx = info.context
        parts = split_node_id(id)
        if parts is None:
            raise BadRequest("`id` is not a valid global id.")
        kind, raw = parts
        if kind == "User":
            user = await ctx.users.load(raw)
            return User(_user=user) if user else None
        if kind == "Bridge":
            bridge = await ctx.bridges.load(raw)
            return Bridge(_bridge=bridge) if bridge else None
        if kind == "BulkResetJob":
            ctx.require(Capability.READ_BULK_RESETS)
            job = await ctx.services.bulk.job(raw)
            return BulkResetJob(_job=job) if job else None
        if kind in ("AuditEvent", "Notification"):
            ctx.require(Capability.READ_AUDIT)
            ctx.note_audit_read("node", {kind: raw[:100]})
            if kind == "AuditEvent" and raw.isdigit() and raw.isascii() and len(raw) < 19:
                entry = await ctx.audit_events.load(int(raw))
                return AuditEvent.of(entry) if entry else None
            if kind == "Notification":
                found = await ctx.services.audit.notifications_by_id([raw])
                return Notification(_note=found[raw]) if raw in found else None
            return None
        raise BadRequest("`id` is not a valid global id.")

    @strawberry.field(
        description="One user by global id or by email address; null if none.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    async def user(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The user's global id.")
        ] = None,
        email: Annotated[
            str | None, strawberry.argument(description="The user's email (any case).")
        ] = None,
    ) -> User | None:
        ctx = info.context
        if (id is None) == (email is None):
            raise BadRequest("Pass exactly one of `id` and `email`.")
        if id is not None:
            found = await ctx.users.load(require_id(id, "User", "id"))
        else:
            found = await ctx.services.directory.user_by_email(_bounded(email, "email", 254) or "")
        return User(_user=found) if found else None

    @strawberry.field(
        description="Users in directory order, optionally filtered by `search` and `bridgeId`.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    async def users(
        self,
        info: Info,
        first: FirstArg = DEFAULT_PAGE,
        after: AfterArg = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive text found in the display name or email."
            ),
        ] = None,
        bridge_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the users enabled on this bridge."),
        ] = None,
    ) -> UserConnection:
        ctx = info.context
        size = check_first(first)
        key = decode_cursor(after, "users", 2)
        position = UserKey(str(key[0]), str(key[1])) if key else None
        bridge = require_id(bridge_id, "Bridge", "bridgeId") if bridge_id is not None else None
        rows, more = await ctx.services.directory.users_page(
            size, position, _bounded(search, "search", SEARCH_MAX) or None, bridge
        )
        edges, page_info = page(
            ((encode_cursor("users", [k.name_key, k.user_id]), User(_user=u)) for u, k in rows),
            more,
            after,
        )
        return UserConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="Every audio-conferencing bridge.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    async def bridges(self, info: Info) -> list[Bridge]:
        return [Bridge(_bridge=b) for b in await info.context.services.directory.bridges()]

    @strawberry.field(
        description="Dry run of `setConferenceId`'s policy for one user; writes nothing. "
        "Without `userId`, checks the ID on a bridge (`bridgeId`, else the default bridge): "
        "characters, length, weak patterns, and whether anyone holds it or it is retired.",
        extensions=requires(Capability.READ_DIRECTORY),
    )
    async def check_conference_id(
        self,
        info: Info,
        conference_id: Annotated[str, strawberry.argument(description="The ID to check.")],
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The user's id (the user's own bridge applies)."),
        ] = None,
        bridge_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Bridge to check on when no `userId` is given (default bridge)."
            ),
        ] = None,
    ) -> ConferenceIdCheck:
        ctx = info.context
        if user_id is not None and bridge_id is not None:
            raise BadRequest(
                "Pass at most one of `userId` and `bridgeId`: a user's own bridge applies."
            )
        user = require_id(user_id, "User", "userId") if user_id is not None else None
        bridge = require_id(bridge_id, "Bridge", "bridgeId") if bridge_id is not None else None
        problems = await ctx.services.changes.check(ctx.request_meta(), user, conference_id, bridge)
        return ConferenceIdCheck(valid=not problems, errors=user_errors(problems))

    @strawberry.field(
        description="Who a caller entering this ID reaches: the holder of an active ID; "
        "null for retired or unknown IDs.",
        extensions=requires(Capability.LOOKUP_ID),
    )
    async def lookup_conference_id(
        self,
        info: Info,
        conference_id: Annotated[str, strawberry.argument(description="The ID a caller entered.")],
        bridge_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Bridge (default bridge).")
        ] = None,
    ) -> User | None:
        ctx = info.context
        bridge = require_id(bridge_id, "Bridge", "bridgeId") if bridge_id is not None else None
        conference_id = _bounded(conference_id, "conferenceId", CONFERENCE_ID_INPUT_MAX) or ""
        holder = await ctx.services.directory.holder(bridge, conference_id)
        return User(_user=holder) if holder else None

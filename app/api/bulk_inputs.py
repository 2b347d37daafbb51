"""Bulk reset inputs: the selection (shared by `previewBulkReset` and `startBulkReset`)
and `startBulkReset`'s input; a selection's problems as one BAD_REQUEST for a query."""

from __future__ import annotations

import strawberry

from app.api.ids import require_id
from app.api.payloads import MutationInput
from app.domain import bulk
from app.domain.errors import BadRequest, Problem


@strawberry.input(
    description="Which users a bulk reset is about. The parts add up (a union) and a user "
    "named twice counts once; give at least one. At most 10,000 conference IDs, user ids "
    "and emails together (pass them as variables: the query text itself is limited to "
    "2,000 tokens)."
)
class BulkResetSelectionInput:
    conference_ids: list[str] | None = strawberry.field(
        default=None,
        description="Leaked conference IDs (ASCII digits only): each is resolved to the user "
        "who holds it now, on any bridge. An ID that is already retired, or that was never "
        "assigned, is reported as skipped.",
    )
    user_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Users by global id."
    )
    emails: list[str] | None = strawberry.field(
        default=None, description="Users by email address (any case)."
    )
    bridge_id: strawberry.ID | None = strawberry.field(
        default=None, description="Every user enabled on this bridge (rotating a bridge)."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Every user whose display name or email contains this text (as in "
        "`users(search:)`; at most 200 characters).",
    )

    def selection(self, path: str) -> bulk.Selection:
        """The domain selection; a malformed id is a BAD_REQUEST naming `path`."""
        given = [str(u) for u in self.user_ids or []]
        return bulk.Selection.of(
            conference_ids=self.conference_ids,
            user_ids=[require_id(u, "User", f"{path}.userIds") for u in given],
            emails=self.emails,
            bridge_id=require_id(self.bridge_id, "Bridge", f"{path}.bridgeId")
            if self.bridge_id is not None
            else None,
            search=self.search,
            given_user_ids=given,  # results name each user as the caller did
        )


def bad_request(problems: list[Problem], path: str) -> BadRequest:
    """A query has no userErrors: its selection's problems become one BAD_REQUEST."""
    parts = []
    for p in problems:
        where = path + "".join(f"[{f}]" if f.isdigit() else f".{f}" for f in p.field)
        parts.append(f"`{where}` ({p.code.value}): {p.message}")
    return BadRequest(" ".join(parts))


@strawberry.input(description="Start a bulk reset job (admins only).")
class StartBulkResetInput(MutationInput):
    selection: BulkResetSelectionInput = strawberry.field(
        description="Who to reset (see `previewBulkReset`, which takes the same selection)."
    )
    reason: str = strawberry.field(
        description="Why (required; at most 500 characters, no control characters but line "
        "breaks and tabs); kept in every audit entry of the incident."
    )
    send_email: bool | None = strawberry.field(
        default=None,
        description="Send each reset user CONFERENCE_ID_CHANGED; defaults to the tenant setting.",
    )
    expected_count: int | None = strawberry.field(
        default=None,
        description="How many users the preview that was confirmed would reset (its "
        "`count`). When given, and the selection now reaches another number (a user "
        "enabled, reset or assigned a leaked ID meanwhile), the start is refused with "
        "SELECTION_CHANGED (NOTHING_TO_RESET when it reaches nobody) and nothing starts: "
        "preview again. Only the number is compared. A retry with the same "
        "`idempotencyKey` returns the job started first, whatever this count.",
    )

"""What every mutation input and payload has: the idempotency key, the audit entry, the
email, the userErrors and whether the answer is a replay."""

from __future__ import annotations

import strawberry

from app.api.results import UserError, user_errors
from app.api.types import AuditEvent, Notification, User
from app.services.outcomes import ChangeOutcome

INPUT = ("input",)  # userError paths of a mutation start at its `input` argument


@strawberry.input(description="Fields every mutation input has.")
class MutationInput:
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of up to 100 characters, unique per intended change: a retry "
        "with the same key returns the first result (`replayed: true`) and changes nothing "
        "more; the same key with a different input is refused (IDEMPOTENCY_KEY_REUSED). "
        "Remembered for 24 hours, per caller.",
    )


@strawberry.type(description="Fields every change payload has.")
class MutationPayload:
    _outcome: strawberry.Private[ChangeOutcome]

    @strawberry.field(description="The audit entry written (SUCCESS, or REJECTED with codes).")
    def audit_event(self) -> AuditEvent | None:
        entry = self._outcome.audit_event
        return AuditEvent.of(entry) if entry else None

    @strawberry.field(description="The email recorded.")
    def notification(self) -> Notification | None:
        note = self._outcome.notification
        return Notification(_note=note) if note else None

    @strawberry.field(description="Why it was refused, if it was.")
    def user_errors(self) -> list[UserError]:
        return user_errors(self._outcome.problems, INPUT)

    @strawberry.field(
        description="True when this is the first result of an earlier request with the same "
        "`idempotencyKey`, returned again; this request changed nothing."
    )
    def replayed(self) -> bool:
        return self._outcome.replayed


@strawberry.type(description="Result of a change of a user's conference ID.")
class ChangePayload(MutationPayload):
    @strawberry.field(description="The user, as it is now.")
    def user(self) -> User | None:
        user = self._outcome.user
        return User(_user=user) if user else None

"""Enable, set, reset and send info: the use cases behind the four mutations, and the dry
run of a set. Each builds a `ChangeRequest` and submits it; the step order lives in
`app.services.change_path`, finishing and undoing in `app.services.completion`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain import rules
from app.domain.errors import Problem
from app.domain.models import AuditAction, RequestMeta
from app.domain.operation import ChangeRequest, new_operation_id
from app.services.change_path import ChangePath
from app.services.claims import Claims
from app.services.clock import Clock
from app.services.idempotency import Idempotency
from app.services.outcomes import ChangeOutcome
from app.services.refusals import Refusals
from app.store.bridges import BridgeRepository
from app.store.users import UserRepository


@dataclass(frozen=True, slots=True)
class Policy:
    """Tenant-wide behaviour of changes."""

    send_emails_automatically: bool


class ChangeService:
    """The four mutations of SPEC §4 and `checkConferenceId`."""

    def __init__(
        self,
        *,
        path: ChangePath,
        idempotency: Idempotency,
        refusals: Refusals,
        claims: Claims,
        users: UserRepository,
        bridges: BridgeRepository,
        policy: Policy,
        clock: Clock,
    ) -> None:
        self._path = path
        self._idempotency = idempotency
        self._refusals = refusals
        self._claims = claims
        self._users = users
        self._bridges = bridges
        self._policy = policy
        self._clock = clock

    def _email(self, send_email: bool | None) -> bool:
        return self._policy.send_emails_automatically if send_email is None else send_email

    async def enable(
        self,
        meta: RequestMeta,
        user_id: str,
        bridge_id: str | None = None,
        send_email: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeOutcome:
        """Enable a user for audio conferencing with a generated ID on a bridge."""
        request = ChangeRequest(
            AuditAction.ASSIGN, user_id, meta, new_operation_id(),
            send_email=self._email(send_email), bridge_id=bridge_id,
        )  # fmt: skip
        return await self.submit(request, idempotency_key)

    async def set(
        self,
        meta: RequestMeta,
        user_id: str,
        conference_id: str,
        reason: str | None = None,
        send_email: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeOutcome:
        """Give a user a hand-picked conference ID that passes the policy."""
        request = ChangeRequest(
            AuditAction.SET, user_id, meta, new_operation_id(),
            send_email=self._email(send_email), conference_id=conference_id,
            reason=reason or None,  # a blank reason is no reason
        )  # fmt: skip
        return await self.submit(request, idempotency_key)

    async def reset(
        self,
        meta: RequestMeta,
        user_id: str,
        reason: str | None = None,
        send_email: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ChangeOutcome:
        """Replace a user's ID with a fresh generated one; the old one is retired."""
        request = ChangeRequest(
            AuditAction.RESET, user_id, meta, new_operation_id(),
            send_email=self._email(send_email), reason=reason or None,
        )  # fmt: skip
        return await self.submit(request, idempotency_key)

    async def send_info(
        self,
        meta: RequestMeta,
        user_id: str,
        to_address: str | None = None,
        idempotency_key: str | None = None,
        *,
        resend_of: str | None = None,
    ) -> ChangeOutcome:
        """Email the user's conference info, to their address or to `to_address`
        (`resend_of`: the FAILED notification this send replaces, linked from the new one)."""
        request = ChangeRequest(
            AuditAction.SEND_INFO, user_id, meta, new_operation_id(), to_address=to_address,
            resend_of=resend_of,
        )  # fmt: skip
        return await self.submit(request, idempotency_key)

    async def refuse(
        self, meta: RequestMeta, action: AuditAction, user_id: str, problems: list[Problem]
    ) -> ChangeOutcome:
        """Refuse an attempt for a reason found before any change could start (audited like
        every refusal)."""
        request = ChangeRequest(action, user_id, meta, new_operation_id())
        return await self._refusals.refuse(request, problems)

    async def submit(self, request: ChangeRequest, idempotency_key: str | None) -> ChangeOutcome:
        """Run the request, at most once per idempotency key when one is given."""
        if idempotency_key is None:
            return await self._path.run(request)
        admission = await self._idempotency.admit(request, idempotency_key)
        if admission.replay is not None:
            return admission.replay
        if admission.refusal is not None:
            return await self._refusals.refuse(request, [admission.refusal])
        assert admission.operation_id is not None
        outcome = await self._path.run(replace(request, operation_id=admission.operation_id))
        await self._idempotency.settle(request, idempotency_key, outcome)
        return outcome

    async def check(
        self,
        meta: RequestMeta,
        user_id: str | None,
        conference_id: str,
        bridge_id: str | None = None,
    ) -> list[Problem]:
        """`setConferenceId`'s validation as a dry run: every problem, nothing written.

        Without a user, the ID is checked on a bridge (the given or default one): its
        characters, length and weak patterns, and whether anyone holds it or it is retired.
        """
        if user_id is None:
            return await self._check_on_bridge(conference_id, bridge_id)
        request = ChangeRequest(
            AuditAction.SET, user_id, meta, new_operation_id(), conference_id=conference_id
        )
        user = await self._users.get(user_id)
        bridge = await self._bridges.get(user.audio.bridge_id) if user and user.audio else None
        problems = rules.validate(request, user, bridge)
        if problems or bridge is None:
            return problems
        return await self._claims.availability(bridge, conference_id, self._clock())

    async def _check_on_bridge(self, conference_id: str, bridge_id: str | None) -> list[Problem]:
        if bridge_id is None:
            bridge = await self._bridges.default()
        else:
            bridge = await self._bridges.get(bridge_id)
        if bridge is None:
            return [rules.unknown_bridge()]
        problems = rules.chosen_id_problems(conference_id, bridge)
        if problems:
            return problems
        return await self._claims.availability(bridge, conference_id, self._clock())

"""Resolving a bulk reset's selection against the directory: who would be reset, and
which selectors reset nobody (and why). Reads only; the preview and the job share it."""

from __future__ import annotations

from app.domain.bulk import MAX_JOB_USERS, Resolution, Selection, Skip, SkipReason
from app.domain.errors import Problem, Rejected, UserErrorCode
from app.domain.models import User
from app.store.bridges import BridgeRepository
from app.store.registry import ConferenceIdRegistry, IdState
from app.store.users import UserRepository


class Selector:
    """Turns a `Selection` into a `Resolution`."""

    def __init__(
        self, users: UserRepository, bridges: BridgeRepository, registry: ConferenceIdRegistry
    ) -> None:
        self._users = users
        self._bridges = bridges
        self._registry = registry

    async def resolve(self, selection: Selection) -> Resolution:
        """The users to reset, in id order, and the skipped selectors in input order.

        Raises Rejected for a selection whose text is wrong (see `Selection.problems`), an
        unknown bridge, or more users than one job may reset.
        """
        problems = selection.problems()
        if problems:
            raise Rejected(problems)
        picked = _Picked()
        await self._by_conference_id(selection, picked)
        if selection.user_ids:
            found = await self._users.get_many(list(selection.user_ids))
            for user_id, given in selection.named_user_ids():
                picked.take(found.get(user_id), given)
        if selection.emails:
            by_key = await self._users.by_emails(list(selection.emails))
            for email in selection.emails:
                picked.take(by_key.get(email.casefold()), email)
        if selection.bridge_id is not None and await self._bridges.get(selection.bridge_id) is None:
            raise Rejected(
                [Problem(UserErrorCode.NOT_FOUND, "No bridge has this id.", ("bridgeId",))]
            )
        for user in await self._users.selected(selection.bridge_id, selection.search):
            picked.take(user, user.email)
        if len(picked.users) > MAX_JOB_USERS:
            raise Rejected(
                [
                    Problem(
                        UserErrorCode.TOO_LONG,
                        f"This selection has {len(picked.users):,} users; one job resets at "
                        f"most {MAX_JOB_USERS:,}. Narrow it (by search) and run several jobs.",
                    )
                ]
            )
        users = tuple(sorted(picked.users.values(), key=lambda u: u.id))
        return Resolution(users, tuple(picked.skipped), dict(picked.selected_by))

    async def _by_conference_id(self, selection: Selection, picked: _Picked) -> None:
        """Leaked IDs: their current holders (on any bridge); an ID held by nobody is
        already retired (reported with its last holder) or unknown."""
        if not selection.conference_ids:
            return
        bridges = await self._bridges.all()
        wanted = list(selection.conference_ids)
        held: dict[str, list[User]] = {}
        for user in await self._users.holders([b.id for b in bridges], wanted):
            assert user.audio is not None
            held.setdefault(user.audio.conference_id, []).append(user)
        loose = [c for c in wanted if c not in held]
        retired: dict[str, str] = {}  # conference ID -> its last holder's id
        if loose:
            keys = [(b.id, c) for b in bridges for c in loose if len(c) == b.conference_id_length]
            for registration in await self._registry.get_many(keys):
                if registration.state is IdState.RETIRED:
                    retired.setdefault(registration.conference_id, registration.user_id)
        former = await self._users.get_many(list(set(retired.values()))) if retired else {}
        for conference_id in wanted:
            if conference_id in held:
                for user in held[conference_id]:
                    picked.take(user, conference_id)
            elif conference_id in retired:
                last = former.get(retired[conference_id])
                picked.skipped.append(Skip(conference_id, SkipReason.ALREADY_RETIRED, last))
            else:
                picked.skipped.append(Skip(conference_id, SkipReason.UNKNOWN_ID))


class _Picked:
    """Users picked so far (each once) and the skips, in the order they were found."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.selected_by: dict[str, str] = {}
        self.skipped: list[Skip] = []
        self._not_enabled: set[str] = set()

    def take(self, user: User | None, selector: str) -> None:
        if user is None:
            self.skipped.append(Skip(selector, SkipReason.UNKNOWN_USER))
        elif user.audio is None:
            if user.id not in self._not_enabled:
                self._not_enabled.add(user.id)
                self.skipped.append(Skip(selector, SkipReason.NOT_ENABLED, user))
        elif user.id not in self.users:
            self.users[user.id] = user
            self.selected_by[user.id] = selector

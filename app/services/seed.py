"""The embedded demo: one bridge and N users, most enabled through the real change path."""

from __future__ import annotations

import logging
import random

from app.domain.generator import generate_conference_id
from app.domain.models import SYSTEM_META, AuditAction, Bridge, User
from app.domain.operation import ChangeRequest
from app.services.changes import ChangeService
from app.store.bridges import BridgeRepository
from app.store.users import UserRepository

log = logging.getLogger("confid.seed")

DEMO_BRIDGE = Bridge(
    id="default",
    name="Contoso Audio Conferencing",
    conference_id_length=7,
    default_toll_number="+14255550100",
    default_toll_free_number="+18005550199",
    is_default=True,
)

_FIRST = [
    "Adele",
    "Ana",
    "Ben",
    "Chen",
    "Diego",
    "Elif",
    "Farah",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zoe",
]
_LAST = [
    "Vance",
    "Costa",
    "Okafor",
    "Li",
    "Ramos",
    "Yilmaz",
    "Haddad",
    "Kim",
    "Tanaka",
    "Silva",
    "Berg",
    "Novak",
    "Fischer",
    "Rossi",
    "Khan",
    "Dubois",
    "Patel",
    "Murphy",
    "Garcia",
    "Larsen",
    "Aziz",
    "Rao",
    "Petrov",
    "Zhang",
    "Haddad",
    "Meyer",
]


class DemoSeed:
    """Seeds an empty database with the demo bridge and `count` users."""

    def __init__(
        self, bridges: BridgeRepository, users: UserRepository, changes: ChangeService, count: int
    ) -> None:
        self._bridges = bridges
        self._users = users
        self._changes = changes
        self._count = count

    async def run(self) -> int:
        """Seed an empty database; returns how many users were created (0 if not empty)."""
        return await seed_demo(self._bridges, self._users, self._changes, self._count)


async def seed_demo(
    bridges: BridgeRepository, users: UserRepository, changes: ChangeService, count: int
) -> int:
    """Seed an empty database; returns how many users were created (0 if not empty)."""
    if await bridges.all():
        return 0
    if not await bridges.insert(DEMO_BRIDGE):
        return 0  # another process on the same database is seeding it
    # A fixed seed: the same names, ids and conference IDs on every start, so the README's
    # examples and the example operations' variables are what a newcomer sees. (Real
    # assignments and resets draw their IDs from `secrets`.)
    rng = random.Random(20261129)
    created: list[User] = []
    for number in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        user = User(
            id=f"u{number + 1:05d}",
            display_name=f"{first} {last}",
            email=f"{first}.{last}.{number + 1}@contoso.example".lower(),
        )
        await users.insert(user)
        created.append(user)
    ids = random.Random(20261201)  # its own stream: a user's ID does not depend on the count
    chosen: set[str] = set()
    for number, user in enumerate(created):
        if number % 8 == 7:  # most users are enabled; every eighth is left for the demo
            continue
        conference_id = generate_conference_id(DEMO_BRIDGE.conference_id_length, ids.randrange)
        while conference_id in chosen:
            conference_id = generate_conference_id(DEMO_BRIDGE.conference_id_length, ids.randrange)
        chosen.add(conference_id)
        request = ChangeRequest(
            AuditAction.ASSIGN, user.id, SYSTEM_META, f"op_seed_{user.id}",
            send_email=False, bridge_id=DEMO_BRIDGE.id, conference_id=conference_id,
        )  # fmt: skip
        outcome = await changes.submit(request, None)
        if outcome.problems:  # pragma: no cover - a fresh database refuses nothing
            raise RuntimeError(f"seeding {user.id} was refused: {outcome.problems}")
    log.info("seeded the demo: 1 bridge, %d users", count)
    return count

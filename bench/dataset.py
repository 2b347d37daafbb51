"""The benchmark's data: confid's real demo seed plus a synthetic audit history, as a snapshot.

The snapshot is built once per run (or reused from `bench-results/.cache` while confid's
sources are unchanged) and loaded into a fresh embedded store by each server process, so
confid and the ceiling serve byte-for-byte the same documents.

* Users: confid's own start-up seed (`CONFID_DEMO_USERS`), i.e. the real change path:
  lock, claim, commit, retire, audit, record, unlock for every enabled user.
* Audit history: `AuditRepository.append`, confid's real append (sealing, hash chain,
  Ed25519 signature, codec) with the same signing key, which the snapshot carries so that
  the confid server verifies what it serves (`CONFID_SIGNING_KEY_FILE`). The entries are
  synthetic (they do not change users' current IDs). mongomock checks a unique index by
  scanning the whole collection on every insert, which makes 10,000 indexed appends take
  ~100 s; the `one_per_operation` index is therefore dropped while appending and
  re-created right after (operation ids are unique by construction).
"""

from __future__ import annotations

import hashlib
import pickle
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mongomock_motor import AsyncMongoMockClient

from app.domain.entry import AuditDraft
from app.domain.errors import UserErrorCode
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta, Role
from app.domain.signing import Signer
from app.main import create_app
from app.services.chain import AuditChain
from app.services.tokens import hash_token
from app.settings import Settings
from app.store.audit import AuditRepository
from app.store.database import AUDIT_EVENTS, USERS, Database
from app.store.indexes import ensure_indexes

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_FORMAT = 2
HOT_USERS = 5  # users that get ~1/10 of the history, so `auditEvents(first: 50)` fills a page
BENCH_TOKEN_NAME = "bench-admin"

Docs = dict[str, list[dict[str, Any]]]


@dataclass(slots=True)
class Snapshot:
    """Every document of every collection, plus what the bench needs to address them."""

    docs: Docs
    signing_key_pem: bytes
    enabled_user_ids: list[str]
    hot_user_ids: list[str]
    seed_seconds: float
    append_seconds: float
    users: int
    extra_audit: int
    built_at: str
    source_key: str
    cached: bool = field(default=False)

    def counts(self) -> dict[str, int]:
        """Documents per collection."""
        return {name: len(docs) for name, docs in self.docs.items()}


def write_tokens_file(path: Path) -> str:
    """Write a one-token (admin) tokens file in confid's format; return the plain token."""
    token = "bench-" + secrets.token_urlsafe(24)
    path.write_text(
        f'[[tokens]]\nname = "{BENCH_TOKEN_NAME}"\nrole = "admin"\n'
        f'sha256 = "{hash_token(token)}"\n',
        encoding="utf-8",
    )
    return token


def source_key(users: int, extra_audit: int) -> str:
    """Changes whenever confid's code, this module or the sizes change (cache key)."""
    digest = hashlib.sha256(f"{SNAPSHOT_FORMAT}:{users}:{extra_audit}".encode())
    for path in sorted([*(ROOT / "app").rglob("*.py"), Path(__file__)]):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _history_draft(rng: random.Random, number: int, user_id: str, at: datetime) -> AuditDraft:
    """One realistic entry: mostly resets and sets, some refusals and sends."""
    roll = rng.random()
    who = Actor("bench-admin", Role.ADMIN) if rng.random() < 0.6 else Actor("desk-1", Role.HELPDESK)
    meta = RequestMeta(who, "192.0.2.10", "confid-dashboard/2.3", secrets.token_hex(8))
    previous = f"{rng.randrange(10**7):07d}"
    new = f"{rng.randrange(10**7):07d}"
    action, outcome = AuditAction.RESET, AuditOutcome.SUCCESS
    codes: tuple[UserErrorCode, ...] = ()
    recipients: tuple[str, ...] = ()
    reason: str | None = "Scheduled rotation" if rng.random() < 0.3 else None
    if roll < 0.2:
        action = AuditAction.SET
    elif roll < 0.3:
        action, outcome, codes = AuditAction.SET, AuditOutcome.REJECTED, (UserErrorCode.IN_USE,)
    elif roll < 0.4:
        action, recipients, previous, reason = (
            AuditAction.SEND_INFO,
            (f"{user_id}@x.test",),
            "",
            None,
        )
    return AuditDraft(
        occurred_at=at,
        action=action,
        outcome=outcome,
        error_codes=codes,
        user_id=user_id,
        bridge_id="default",
        previous_conference_id=previous or None,
        new_conference_id=new,
        meta=meta,
        reason=reason,
        recipients=recipients,
        to_non_primary=False,
        operation_id=f"op_bench_{number:08d}",
    )


async def append_history(
    database: Database, user_ids: list[str], count: int, signer: Signer | None
) -> float:
    """Append `count` entries through `AuditChain.append`; returns the seconds taken."""
    events = database.get_collection(AUDIT_EVENTS)
    if "one_per_operation" in await events.index_information():
        await events.drop_index("one_per_operation")  # see the module docstring
    repo = AuditChain(AuditRepository(database), signer)
    rng = random.Random(20261130)
    hot = user_ids[:HOT_USERS]
    start = datetime.now(UTC) - timedelta(minutes=count + 1)
    began = time.perf_counter()
    for number in range(count):
        user_id = rng.choice(hot) if number % 10 == 0 else rng.choice(user_ids)
        await repo.append(_history_draft(rng, number, user_id, start + timedelta(minutes=number)))
    await ensure_indexes(database)
    return time.perf_counter() - began


async def build_snapshot(users: int, extra_audit: int, workdir: Path, key: str) -> Snapshot:
    """Start confid's services on an empty embedded store, seed, add history, dump."""
    database: Database = AsyncMongoMockClient()["confid"]
    tokens = workdir / "seed-tokens.toml"
    write_tokens_file(tokens)
    signer = Signer.generate()
    key_file = workdir / "seed-signing-key.pem"
    key_file.write_bytes(signer.private_pem())
    settings = Settings.from_env(
        {
            "CONFID_DEMO_USERS": str(users),
            "CONFID_TOKENS_FILE": str(tokens),
            "CONFID_SIGNING_KEY_FILE": str(key_file),
        }
    )
    app = create_app(settings, database=database)
    began = time.perf_counter()
    await app.state.services.start()  # indexes, recovery sweep, demo seed (real change path)
    seed_seconds = time.perf_counter() - began
    user_docs = await database.get_collection(USERS).find({}).sort("_id", 1).to_list(None)
    enabled = [d["_id"] for d in user_docs if d.get("audio")]
    append_seconds = await append_history(database, enabled, extra_audit, signer)
    docs: Docs = {}
    for name in sorted(await database.list_collection_names()):
        docs[name] = await database.get_collection(name).find({}).sort("_id", 1).to_list(None)
    return Snapshot(
        docs=docs,
        signing_key_pem=signer.private_pem(),
        enabled_user_ids=enabled,
        hot_user_ids=enabled[:HOT_USERS],
        seed_seconds=seed_seconds,
        append_seconds=append_seconds,
        users=users,
        extra_audit=extra_audit,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_key=key,
    )


async def snapshot(
    users: int, extra_audit: int, cache_dir: Path, workdir: Path, fresh: bool
) -> tuple[Snapshot, Path]:
    """The cached snapshot for these sizes and sources, or a newly built one; and its file."""
    key = source_key(users, extra_audit)
    path = cache_dir / f"snapshot-{key}.pickle"
    if path.exists() and not fresh:
        with path.open("rb") as handle:
            cached: Snapshot = pickle.load(handle)  # only ever a file this module wrote
        cached.cached = True
        return cached, path
    built = await build_snapshot(users, extra_audit, workdir, key)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob("snapshot-*.pickle"):
        old.unlink()
    with path.open("wb") as handle:
        pickle.dump(built, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return built, path


def load_snapshot_file(path: Path) -> Snapshot:
    """Read a snapshot written by `snapshot`."""
    with path.open("rb") as handle:
        loaded: Snapshot = pickle.load(handle)
    return loaded


async def restore(database: Database, snap: Snapshot) -> None:
    """Insert every document into an empty database and create confid's indexes."""
    for name, docs in snap.docs.items():
        if docs:
            await database.get_collection(name).insert_many(docs)
    await ensure_indexes(database)

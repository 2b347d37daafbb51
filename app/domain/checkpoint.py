"""Signed checkpoints: the chain head (sequence, hash, time) signed with confid's key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from app.domain.instants import iso_millis


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """confid's signed statement that the trail had `sequence` entries ending in `hash`."""

    sequence: int  # 0 when the trail was empty
    hash: str
    signed_at: datetime
    key_id: str
    signature: str


def checkpoint_message(sequence: int, head_hash: str, signed_at: datetime) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return json.dumps(
        {"type": "confid-audit-checkpoint", "sequence": sequence, "hash": head_hash,
         "signedAt": iso_millis(signed_at)},
        sort_keys=True, separators=(",", ":"),
    ).encode("utf-8")  # fmt: skip

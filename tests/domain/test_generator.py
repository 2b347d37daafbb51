"""The generator: uniform rejection sampling that never yields an ID the policy refuses."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.generator import generate_conference_id
from app.domain.policy import format_problems, weak_rule


@given(length=st.integers(min_value=4, max_value=12), seed=st.integers(0, 2**32))
@settings(max_examples=300)
def test_generated_ids_always_pass_the_policy(length: int, seed: int) -> None:
    conference_id = generate_conference_id(length, random.Random(seed).randrange)
    assert format_problems(conference_id, length) == []


def test_weak_draws_are_rejected_and_redrawn() -> None:
    draws = iter([0, 1234567, 1212121, 8390146])
    assert generate_conference_id(7, lambda _n: next(draws)) == "8390146"


def test_leading_zeros_are_kept() -> None:
    draws = iter([12938])
    assert generate_conference_id(7, lambda _n: next(draws)) == "0012938"


def test_draws_cover_the_space_evenly() -> None:
    # 4-digit IDs: every allowed ID should come up about equally often.
    rng = random.Random(1)
    counts = Counter(generate_conference_id(4, rng.randrange) for _ in range(60_000))
    allowed = [f"{n:04d}" for n in range(10_000) if weak_rule(f"{n:04d}") is None]
    assert set(counts) <= set(allowed)
    expected = 60_000 / len(allowed)
    assert len(counts) > 0.99 * len(allowed)
    assert max(counts.values()) < expected * 3

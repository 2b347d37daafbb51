"""The retry schedule: exponential backoff with bounded jitter, about 2 hours by default."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.retry import MAX_WAIT, RetryPolicy


def test_the_default_schedule_spans_about_two_hours() -> None:
    policy = RetryPolicy()
    waits = [policy.wait_after(n, 0.5) for n in range(1, 8)]
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16, 32, 64]
    assert policy.nominal_horizon() == timedelta(minutes=127)
    earliest = sum((policy.wait_after(n, 0.0) for n in range(1, 8)), timedelta())
    latest = sum((policy.wait_after(n, 1.0) for n in range(1, 8)), timedelta())
    assert timedelta(minutes=100) < earliest < latest < timedelta(minutes=155)


def test_attempts_run_out_at_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@given(attempt=st.integers(1, 500), draw=st.floats(0, 1), base=st.floats(0, 3600))
def test_each_wait_is_the_nominal_one_within_the_jitter_and_the_cap(
    attempt: int, draw: float, base: float
) -> None:
    policy = RetryPolicy(base=timedelta(seconds=base))  # a timedelta: whole microseconds
    wait = policy.wait_after(attempt, draw).total_seconds()
    nominal = policy.base.total_seconds() * 2 ** min(attempt - 1, 64)
    assert wait <= MAX_WAIT.total_seconds()
    if nominal * 1.2 < MAX_WAIT.total_seconds():
        assert nominal * 0.8 - 1e-5 <= wait <= nominal * 1.2 + 1e-5  # timedelta: whole µs


def test_a_zero_base_retries_at_once() -> None:
    assert RetryPolicy(base=timedelta(0)).wait_after(5, 0.9) == timedelta(0)


@pytest.mark.parametrize(("attempt", "draw"), [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_nonsense_is_refused(attempt: int, draw: float) -> None:
    with pytest.raises(ValueError):
        RetryPolicy().wait_after(attempt, draw)

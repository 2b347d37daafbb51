"""CLI tests: one real confid per test module (started once: they are slow to start); the
ways to run `confid` against it are in tests/support/cli.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cli import DEMO_USERS, Confid
from tests.support.served import VAST_RATE_LIMITS, running_confid


@pytest.fixture(scope="module")
def confid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Confid]:
    folder = tmp_path_factory.mktemp("cli")
    with running_confid(folder, CONFID_DEMO_USERS=str(DEMO_USERS), **VAST_RATE_LIMITS) as url:
        yield Confid(url, folder)

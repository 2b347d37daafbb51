"""Every example operation runs as written on a fresh demo: the variables in its header
are real demo ids (the demo is seeded the same way on every start), and nothing but the
userErrors a file declares comes back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.settings import Settings
from tests.support.api import (
    OPERATION_NAMES,
    TOKENS,
    make_api,
    operation,
    operation_header,
)

# Subscriptions run over a websocket: tests/api/test_live.py runs their examples.
SUBSCRIPTIONS = [name for name in OPERATION_NAMES if "\nsubscription " in operation(name)]


def first_role(name: str) -> str:
    """The first role the header says may run it (admin unless admin is excluded)."""
    roles = operation_header(name, "Roles") or "admin"
    return next(r for r in ("admin", "auditor", "helpdesk") if r in roles.split("(")[0])


@pytest.mark.parametrize("name", [name for name in OPERATION_NAMES if name not in SUBSCRIPTIONS])
async def test_example_runs_as_written_on_a_fresh_demo(
    settings: Settings, raw_database: Any, name: str
) -> None:
    text = operation_header(name, "variables")
    assert text is not None and "<" not in text, f"{name}: no placeholder in the variables"
    variables = json.loads(text)
    api = await make_api(settings, raw_database)  # a fresh demo for every file
    assert first_role(name) in TOKENS
    result = await api.gql(operation(name), variables, first_role(name))
    await api.client.aclose()
    assert "errors" not in result, result
    expected = set((operation_header(name, "expected userErrors") or "").split())
    (payload,) = result["data"].values()
    if isinstance(payload, dict) and "userErrors" in payload:
        assert {e["code"] for e in payload["userErrors"]} == expected, payload["userErrors"]
        if not expected and "replayed" in payload:
            assert payload["replayed"] is False


def test_no_example_carries_a_fixed_idempotency_key() -> None:
    for name in OPERATION_NAMES:
        assert '"idempotencyKey": "' not in (operation_header(name, "variables") or ""), name

"""The four measured requests, as confid GraphQL operations and as ceiling requests.

Each confid request sends the same query text with variables only, so graphql-core's parser
and validation caches apply, as they do for a real dashboard. The ceiling endpoint answers
the same JSON shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.api.ids import encode_id

USER = """query BenchUser($id: ID!) {
  user(id: $id) { id displayName email audioConferencing { conferenceId assignedAt } }
}"""

USERS = """query BenchUsers($first: Int!) {
  users(first: $first) {
    edges { cursor node {
      id displayName email audioConferencing { conferenceId assignedAt } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

AUDIT = """query BenchAudit($userId: ID!, $first: Int!) {
  auditEvents(userId: $userId, first: $first) {
    edges { cursor node {
      id sequence occurredAt action outcome errorCodes previousConferenceId
      newConferenceId actor { name role } reason previousHash hash } }
    pageInfo { hasNextPage endCursor }
  }
}"""

RESET = """mutation BenchReset($input: ResetConferenceIdInput!) {
  resetConferenceId(input: $input) {
    user { id audioConferencing { conferenceId assignedAt } }
    auditEvent { id sequence }
    notification { id status }
    userErrors { code message }
  }
}"""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One measured request kind, with a body per target and a result check."""

    key: str
    title: str
    writes: bool
    query: str
    ceiling_path: str
    variables: Callable[[str], dict[str, Any]]
    check: Callable[[dict[str, Any]], str | None]

    def confid_body(self, user_id: str) -> str:
        return json.dumps({"query": self.query, "variables": self.variables(user_id)})

    def ceiling_body(self, user_id: str) -> str:
        return json.dumps(self.variables(user_id))


def _gid(user_id: str) -> str:
    return encode_id("User", user_id)


def _expect(path: str, size: int | None = None) -> Callable[[dict[str, Any]], str | None]:
    """A check that `data.<path>` is present (and, for lists of edges, has `size` of them)."""

    def check(body: dict[str, Any]) -> str | None:
        if body.get("errors"):
            return f"errors: {body['errors']}"
        value: Any = body.get("data")
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return f"data.{path} is missing: {str(body)[:300]}"
        if isinstance(value, dict) and value.get("userErrors"):
            return f"userErrors: {value['userErrors']}"
        if size is not None and len(value.get("edges", [])) != size:
            return f"data.{path} has {len(value.get('edges', []))} edges, expected {size}"
        return None

    return check


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        key="a",
        title="user(id) + conference ID",
        writes=False,
        query=USER,
        ceiling_path="/user",
        variables=lambda u: {"id": _gid(u)},
        check=_expect("user.audioConferencing"),
    ),
    Scenario(
        key="b",
        title="users(first: 100) + conference IDs",
        writes=False,
        query=USERS,
        ceiling_path="/users",
        variables=lambda u: {"first": 100},
        check=_expect("users", 100),
    ),
    Scenario(
        key="c",
        title="auditEvents(userId, first: 50)",
        writes=False,
        query=AUDIT,
        ceiling_path="/audit",
        variables=lambda u: {"userId": _gid(u), "first": 50},
        check=_expect("auditEvents", 50),
    ),
    Scenario(
        key="d",
        title="resetConferenceId (writes)",
        writes=True,
        query=RESET,
        ceiling_path="/reset",
        variables=lambda u: {
            "input": {"userId": _gid(u), "reason": "bench rotation", "sendEmail": True}
        },
        check=_expect("resetConferenceId.notification"),
    ),
)

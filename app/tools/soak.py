"""`python -m app.tools.soak`: a bounded mixed workload against a running confid, then
the invariants, the error rate and latency percentiles.

Reads (users, one user), resets, sets and audit queries run from a fixed number of
workers on loopback until a request count or a duration is reached; nothing else is
targeted. Exit status 0 when there were no unexpected errors and the invariants hold.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

USERS = """query($first: Int, $after: String) { users(first: $first, after: $after) {
  edges { node { id audioConferencing { conferenceId } } } pageInfo { hasNextPage endCursor } } }"""
USER = "query($id: ID) { user(id: $id) { id audioConferencing { conferenceId assignedAt } } }"
RESET = """mutation($input: ResetConferenceIdInput!) { resetConferenceId(input: $input) {
  auditEvent { sequence } userErrors { code } } }"""
SET = """mutation($input: SetConferenceIdInput!) { setConferenceId(input: $input) {
  auditEvent { sequence } userErrors { code } } }"""
AUDIT = """query($userId: ID, $first: Int, $after: String) {
  auditEvents(userId: $userId, first: $first, after: $after) {
  edges { node { sequence action outcome previousConferenceId newConferenceId } }
  pageInfo { hasNextPage endCursor } } }"""
LOOKUP = "query($c: String!) { lookupConferenceId(conferenceId: $c) { id } }"
VERIFY = "{ verifyAuditTrail { ok checked firstInvalidSequence reason } }"

# Refusals a correct server may give under this workload (a random chosen ID may be taken).
EXPECTED_REFUSALS = {"IN_USE", "RETIRED", "WEAK_PATTERN", "CONFLICT", "SAME_AS_CURRENT"}
MIX = [("read_users", 25), ("read_user", 25), ("reset", 25), ("set", 10), ("audit", 15)]


@dataclass
class Report:
    """What the soak saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refusals: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    invariant_failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def render(self) -> str:
        lines = [f"{'operation':<12}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"]
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
            lines.append(
                f"{kind:<12}{len(values):>8}{q[49] * 1000:>10.1f}{q[94] * 1000:>10.1f}"
                f"{q[98] * 1000:>10.1f}"
            )
        rate = len(self.unexpected) / self.requests if self.requests else 0.0
        lines.append(f"requests: {self.requests}, unexpected errors: {len(self.unexpected)} "
                     f"({rate:.2%}), expected refusals: {dict(self.refusals)}")  # fmt: skip
        lines += [f"  unexpected: {u}" for u in self.unexpected[:10]]
        lines.append(
            "invariants: ok" if not self.invariant_failures
            else "invariants FAILED: " + "; ".join(self.invariant_failures)
        )  # fmt: skip
        return "\n".join(lines)


class Client:
    """One GraphQL endpoint with one bearer token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": "confid-soak/1"}

    async def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self._headers
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"errors: {body['errors'][0].get('message')}")
        data: dict[str, Any] = body["data"]
        return data


async def pages(client: Client, query: str, key: str, **variables: Any) -> list[dict[str, Any]]:
    """Every node of a connection, 100 at a time."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = (await client.call(query, {**variables, "first": 100, "after": after}))[key]
        nodes += [e["node"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return nodes
        after = data["pageInfo"]["endCursor"]


async def check_invariants(client: Client) -> list[str]:
    """No ID held twice, no retired ID active or resolvable, a gapless verified chain."""
    failures: list[str] = []
    users = await pages(client, USERS, "users")
    active = [u["audioConferencing"]["conferenceId"] for u in users if u["audioConferencing"]]
    if len(active) != len(set(active)):
        failures.append("an ID is held by two users")
    events = await pages(client, AUDIT, "auditEvents")
    sequences = sorted(e["sequence"] for e in events)
    if sequences != list(range(1, len(events) + 1)):
        failures.append("the audit sequence has gaps or duplicates")
    retired = {
        e["previousConferenceId"]
        for e in events
        if e["outcome"] == "SUCCESS" and e["action"] in ("SET", "RESET")
    }
    if retired & set(active):
        failures.append("a retired ID is active again")
    for conference_id in random.sample(sorted(retired), min(25, len(retired))):
        if (await client.call(LOOKUP, {"c": conference_id}))["lookupConferenceId"] is not None:
            failures.append(f"retired ID {conference_id} still resolves")
    verdict = (await client.call(VERIFY, {}))["verifyAuditTrail"]
    if not verdict["ok"] or verdict["checked"] != len(events):
        failures.append(f"verifyAuditTrail: {verdict}")
    return failures


async def soak(
    url: str, token: str, *, requests: int, seconds: float, concurrency: int, seed: int
) -> Report:
    """Run the workload and check the invariants afterwards."""
    report = Report()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        client = Client(http, token)
        user_ids = [u["id"] for u in await pages(client, USERS, "users") if u["audioConferencing"]]
        if not user_ids:
            raise SystemExit("confid has no enabled users to work on")
        started = time.monotonic()
        budget = iter(range(requests))
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]

        async def worker() -> None:
            while next(budget, None) is not None and time.monotonic() - started < seconds:
                kind = rng.choices(kinds, weights)[0]
                user_id = rng.choice(user_ids)
                begin = time.perf_counter()
                try:
                    await one(client, kind, user_id, rng, report)
                except Exception as exc:  # an unexpected error is counted, not fatal
                    report.unexpected.append(f"{kind}: {exc}")
                report.latencies[kind].append(time.perf_counter() - begin)

        await asyncio.gather(*[worker() for _ in range(concurrency)])
        report.invariant_failures = await check_invariants(client)
    return report


async def one(client: Client, kind: str, user_id: str, rng: random.Random, report: Report) -> None:
    if kind == "read_users":
        await client.call(USERS, {"first": 50})
    elif kind == "read_user":
        await client.call(USER, {"id": user_id})
    elif kind == "audit":
        await client.call(AUDIT, {"userId": user_id, "first": 20})
    else:
        if kind == "reset":
            data = await client.call(RESET, {"input": {"userId": user_id}})
        else:
            wanted = f"{rng.randrange(10**7):07d}"
            data = await client.call(SET, {"input": {"userId": user_id, "conferenceId": wanted}})
        (payload,) = data.values()
        for error in payload["userErrors"]:
            if error["code"] in EXPECTED_REFUSALS:
                report.refusals[error["code"]] += 1
            else:
                report.unexpected.append(f"{kind}: userError {error['code']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="confid base URL")
    parser.add_argument("--token", required=True, help="an admin token (reads the audit trail)")
    parser.add_argument("--requests", type=int, default=2000, help="stop after this many")
    parser.add_argument("--seconds", type=float, default=60.0, help="or after this long")
    parser.add_argument("--concurrency", type=int, default=8, help="parallel workers")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix")
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= 256 or args.requests < 1 or args.seconds <= 0:
        parser.error("--concurrency 1..256, --requests >= 1, --seconds > 0")
    try:
        report = asyncio.run(
            soak(args.url, args.token, requests=args.requests, seconds=args.seconds,
                 concurrency=args.concurrency, seed=args.seed)
        )  # fmt: skip
    except (RuntimeError, httpx.TransportError) as exc:
        print(f"soak: cannot run against {args.url}: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 1 if report.unexpected or report.invariant_failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Aggregates for charts: buckets counted by the database agree with the trail itself."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.entry import AuditDraft
from app.domain.errors import UserErrorCode
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta, Role
from app.services.chain import AuditChain
from app.store.audit import AuditRepository
from tests.support.api import Api, operation

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
COUNTED = ("enabled", "set", "reset", "sendInfo", "rejected")


def field_of(action: str, outcome: str) -> str | None:
    """The bucket field an entry counts in (a bulk reset's own start or end: none)."""
    if outcome == "REJECTED":
        return "rejected"
    return {"ASSIGN": "enabled", "SET": "set", "RESET": "reset", "SEND_INFO": "sendInfo"}.get(
        action
    )


async def spread_history(api: Api, count: int = 80) -> None:
    """Entries appended through confid's own chain, at times spread over three weeks, on
    two bridges, of every action and outcome."""
    chain = AuditChain(AuditRepository(api.services.database), api.services.audit.signer)
    rng = random.Random(14)
    meta = RequestMeta(Actor("admin-1", Role.ADMIN), "203.0.113.7")
    for n in range(count):
        rejected = rng.random() < 0.25
        await chain.append(
            AuditDraft(
                occurred_at=DAY0 + timedelta(minutes=rng.randrange(21 * 24 * 60)),
                action=rng.choice(list(AuditAction)),
                outcome=AuditOutcome.REJECTED if rejected else AuditOutcome.SUCCESS,
                error_codes=(UserErrorCode.IN_USE,) if rejected else (),
                user_id=f"u{n % 7:05d}",
                bridge_id=rng.choice(["default", "emea"]),
                previous_conference_id=None,
                new_conference_id=None,
                meta=meta,
                reason=None,
                recipients=(),
                to_non_primary=False,
                operation_id=f"op_spread_{n}",
            )
        )


async def whole_trail(api: Api) -> list[dict[str, Any]]:
    """Every entry, read page by page through `auditEvents`."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.data(
            operation("ListAuditEvents"), {"first": 100, "after": after}, token="auditor"
        )
        page = data["auditEvents"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def activity(api: Api, token: str = "auditor", **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(operation("ConferenceIdActivity"), variables, token=token)
    buckets: list[dict[str, Any]] = data["conferenceIdActivity"]
    return buckets


@pytest.mark.parametrize(
    ("interval", "start", "end", "length"),
    [
        ("DAY", DAY0 + timedelta(hours=7), DAY0 + timedelta(days=21), timedelta(days=1)),
        ("HOUR", DAY0 + timedelta(days=3), DAY0 + timedelta(days=5), timedelta(hours=1)),
        ("WEEK", DAY0 - timedelta(days=2), DAY0 + timedelta(days=30), timedelta(weeks=1)),
    ],
)
async def test_buckets_match_counts_computed_from_the_trail(
    api: Api, interval: str, start: datetime, end: datetime, length: timedelta
) -> None:
    await spread_history(api)
    trail = await whole_trail(api)
    buckets = await activity(api, **{"from": iso(start), "to": iso(end), "interval": interval})

    first = at(buckets[0]["start"])
    assert first <= start < first + length and (first - DAY0) % length == timedelta(0)
    starts = [at(b["start"]) for b in buckets]
    assert starts == [first + length * n for n in range(len(buckets))]
    assert starts[-1] < end <= starts[-1] + length

    expected: Counter[tuple[datetime, str]] = Counter()
    for node in trail:
        when = at(node["occurredAt"])
        if first <= when < starts[-1] + length:
            bucket = first + (when - first) // length * length
            field = field_of(node["action"], node["outcome"])
            if field is not None:
                expected[bucket, field] += 1
    assert sum(expected.values()) > 0
    for bucket in buckets:
        for name in COUNTED:
            assert bucket[name] == expected[at(bucket["start"]), name], (bucket, name)


async def test_a_bridge_filter_counts_only_that_bridge(api: Api) -> None:
    await spread_history(api)
    span = {"from": iso(DAY0), "to": iso(DAY0 + timedelta(days=21)), "interval": "WEEK"}
    both = await activity(api, **span)
    bridge = (await api.data(operation("ListBridges")))["bridges"][0]
    assert bridge["name"]  # the demo bridge is stored as "default"
    only = await activity(api, **span, bridgeId=bridge["id"])
    events = api.services.database.get_collection("audit_events")
    # Every entry counts once, but a bulk reset's own successful start or end (no change).
    own = ["BULK_RESET_STARTED", "BULK_RESET_FINISHED"]
    in_span = {
        "occurredAt": {"$gte": DAY0, "$lt": DAY0 + timedelta(days=21)},
        "$or": [{"outcome": "REJECTED"}, {"action": {"$nin": own}}],
    }
    on_default = await events.count_documents({**in_span, "bridgeId": "default"})
    assert sum(b[n] for b in only for n in COUNTED) == on_default
    assert sum(b[n] for b in both for n in COUNTED) == await events.count_documents(in_span)
    assert on_default < await events.count_documents(in_span)


async def test_ranges_are_bounded_and_checked(api: Api) -> None:
    too_many = await api.gql(
        operation("ConferenceIdActivity"),
        {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "HOUR"},
        "auditor",
    )
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "at most 1000" in too_many["errors"][0]["message"]
    backwards = await api.gql(
        operation("NotificationStats"),
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        "auditor",
    )
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    week = await activity(
        api, **{"from": "2026-01-05T00:00:00Z", "to": "2026-01-12T00:00:00Z", "interval": "DAY"}
    )
    assert len(week) == 7 and all(b[n] == 0 for b in week for n in COUNTED)


async def test_notification_stats_count_the_emails_by_status(api: Api) -> None:
    user = await api.enabled_user()
    await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    await api.data(
        operation("ResetConferenceId"), {"input": {"userId": user["id"], "sendEmail": False}}
    )
    notes = await api.services.database.get_collection("notifications").find({}).to_list(None)
    expected = Counter(n["status"] for n in notes)
    assert expected["RECORDED"] and expected["SUPPRESSED"]
    data = await api.data(
        operation("NotificationStats"), {"from": "2000-01-01T00:00:00Z"}, token="auditor"
    )
    counts = {c["status"]: c["count"] for c in data["notificationStats"]}
    assert set(counts) == {"PENDING", "RECORDED", "RETRYING", "SENT", "FAILED", "SUPPRESSED"}
    assert counts == {status: expected[status] for status in counts}


async def test_roles_and_the_access_log(api: Api) -> None:
    span = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z", "interval": "DAY"}
    for name, variables in (("ConferenceIdActivity", span), ("NotificationStats", span)):
        refused = await api.gql(operation(name), variables, "helpdesk")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "errors" not in await api.gql(operation(name), variables, "admin")
    await activity(api, **span)
    log = await api.data(operation("AuditAccessLog"), {"first": 3}, "auditor")
    records = [e["node"] for e in log["auditAccessLog"]["edges"]]
    mine = next(r for r in records if r["what"] == "conferenceIdActivity")
    assert mine["actor"]["name"] == "auditor-1"
    assert mine["filters"] == [
        "from=2026-11-01T00:00:00.000Z",
        "interval=DAY",
        "to=2026-11-08T00:00:00.000Z",
    ]

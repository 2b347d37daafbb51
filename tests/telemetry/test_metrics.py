"""/metrics after scripted requests: every counter moves by exactly what was done."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from app.domain.models import NotificationStatus
from app.notify.transport import DeliveryResult, OutgoingEmail
from app.services.steps import Step
from app.settings import Settings
from app.telemetry.metrics import Metrics
from tests.support.api import Api, make_api, operation
from tests.support.database import CallLog, WrappedDatabase
from tests.support.faults import META, Fault, ProcessDied
from tests.support.scrape import Scrape


async def scrape(api: Api) -> Scrape:
    response = await api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape.parse(response.text)


@pytest.fixture
async def metered(settings: Settings, raw_database: Any) -> AsyncIterator[Api]:
    api = await make_api(replace(settings, metrics=True), raw_database)
    try:
        yield api
    finally:
        await api.client.aclose()


async def test_metrics_are_off_by_default(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 404
    assert api.app.state.metrics is None


async def test_a_scripted_sequence_moves_each_counter_by_exactly_its_requests(
    settings: Settings, raw_database: Any
) -> None:
    counting = WrappedDatabase(raw_database, log=CallLog())
    api = await make_api(replace(settings, metrics=True), counting)
    target = await api.enabled_user(0)
    other = await api.enabled_user(1)
    statuses: Counter[int] = Counter()

    async def post(body: dict[str, Any], token: str | None = "admin") -> dict[str, Any]:
        response = await api.post(body, token)
        statuses[response.status_code] += 1
        result: dict[str, Any] = response.json()
        return result

    before = await scrape(api)
    counting.log.clear()  # round trips from here on are compared with the histogram

    for _ in range(2):
        assert "errors" not in await post({"query": operation("Viewer")})
    refused = await post({"query": operation("Viewer")}, token=None)  # no token: 401
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    reset = await post(
        {"query": operation("ResetConferenceId"), "variables": {"input": {"userId": target["id"]}}}
    )
    assert reset["data"]["resetConferenceId"]["userErrors"] == []
    weak = await post(
        {
            "query": operation("SetConferenceId"),
            "variables": {"input": {"userId": other["id"], "conferenceId": "1212121"}},
        }
    )
    assert weak["data"]["setConferenceId"]["userErrors"][0]["code"] == "WEAK_PATTERN"
    forbidden = await post({"query": operation("ListAuditEvents")}, token="helpdesk")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    broken = await post({"query": "query Broken {"})
    assert broken["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    for i in range(25):  # names a hostile client makes up are all counted as "other"
        assert "errors" not in await post({"query": f"query Made{i}Up {{ viewer {{ name }} }}"})

    audit = await post({"query": operation("ListAuditEvents"), "variables": {"first": 5}})
    assert "errors" not in audit
    metrics: Metrics = api.app.state.metrics
    assert metrics.vitals is not None
    metrics.vitals.forget()  # this scrape reads the gauges from the database again
    after = await scrape(api)
    calls = len(counting.log.calls)

    def moved(name: str, **labels: str) -> float:
        return after.delta(before, name, **labels)

    requests = "confid_graphql_requests_total"
    assert moved(requests, operation="Viewer", type="query", outcome="ok") == 2
    assert moved(requests, operation="other", type="unknown", outcome="client_error") == 2
    assert moved(requests, operation="ResetConferenceId", type="mutation", outcome="ok") == 1
    assert moved(requests, operation="SetConferenceId", type="mutation", outcome="ok") == 1
    assert moved(requests, operation="ListAuditEvents", type="query", outcome="client_error") == 1
    assert moved(requests, operation="other", type="query", outcome="ok") == 25
    assert moved(requests, operation="ListAuditEvents", type="query", outcome="ok") == 1
    assert after.total(requests) - before.total(requests) == sum(statuses.values()) == 33
    assert after.label_values(requests, "operation") <= metrics.operations | {"other"}
    latency = "confid_graphql_request_duration_seconds_count"
    assert moved(latency, operation="other", type="query") == 25

    for code, n in {"UNAUTHENTICATED": 1, "FORBIDDEN": 1, "BAD_REQUEST": 1, "INTERNAL": 0}.items():
        assert moved("confid_graphql_errors_total", code=code) == n, code
    assert moved("confid_graphql_errors_total", code="QUERY_TOO_COMPLEX") == 0

    changes = "confid_conference_id_changes_total"
    assert moved(changes, action="RESET", outcome="SUCCESS") == 1
    assert moved(changes, action="SET", outcome="REJECTED") == 1
    assert after.total(changes) - before.total(changes) == 2
    assert moved("confid_notifications_total", status="RECORDED") == 1  # no mail server
    assert (
        after.total("confid_notifications_total") - before.total("confid_notifications_total") == 1
    )

    http = "confid_http_requests_total"
    for status, n in statuses.items():
        assert moved(http, route="/graphql", method="POST", status=str(status)) == n
    assert moved(http, route="/metrics", method="GET", status="200") == 1  # `before`

    # Every database round trip of the sequence is in the histogram, once.
    round_trips = "confid_db_operation_duration_seconds_count"
    assert after.total(round_trips) - before.total(round_trips) == calls > 0
    assert moved(round_trips, collection="audit_events", operation="insert_one") == 2
    # The gauges' reading: a count and (when some wait) a find per backlog status.
    assert moved(round_trips, collection="notifications", operation="count_documents") == 2
    assert moved(round_trips, collection="audit_checkpoints", operation="find") == 1

    await api.client.aclose()


async def test_the_operation_label_cannot_be_grown_by_clients(metered: Api) -> None:
    def graphql_series(scrape: Scrape) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        return {key for key in scrape.samples if key[0].startswith("confid_graphql_")}

    async def made_up(batch: str) -> None:
        for i in range(30):
            name = f"{batch}{i}"
            query = f"query {name} {{ viewer {{ name }} }}"
            response = await metered.post({"query": query, "operationName": name})
            assert response.status_code == 200
        # A name that is no GraphQL name at all (and matches no operation).
        await metered.post({"query": "query { viewer { name } }", "operationName": f"{batch}\n x"})

    await made_up("First")
    first = await scrape(metered)
    await made_up("Second")
    second = await scrape(metered)
    assert graphql_series(second) == graphql_series(first)  # values moved, series did not
    assert second.delta(first, "confid_graphql_requests_total", operation="other", type="query",
                        outcome="ok") == 30  # fmt: skip
    metrics: Metrics = metered.app.state.metrics
    assert second.label_values("confid_graphql_requests_total", "operation") <= (
        metrics.operations | {"other"}
    )


@dataclass
class RefusingTransport:
    """A mail server that says "try later" to every attempt."""

    attempts: list[OutgoingEmail] = field(default_factory=list)

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        self.attempts.append(email)
        return DeliveryResult.temporary("451 4.3.2 try later")


async def test_emails_waiting_show_in_the_backlog_gauges(
    settings: Settings, raw_database: Any
) -> None:
    quiet = replace(settings, metrics=True, send_emails_automatically=False)
    api = await make_api(quiet, raw_database, transport=RefusingTransport())
    user = await api.enabled_user()
    before = await scrape(api)
    assert before.value("confid_vitals_up") == 1
    assert before.value("confid_outbox_backlog", status="RETRYING") == 0
    assert before.value("confid_outbox_oldest_age_seconds", status="RETRYING") == 0
    for _ in range(2):
        sent = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
        assert sent["sendConferenceInfo"]["notification"]["status"] == "RETRYING"
    metrics: Metrics = api.app.state.metrics
    assert metrics.vitals is not None
    metrics.vitals.forget()  # the reading is cached for 5 s: take a fresh one now
    after = await scrape(api)
    assert after.value("confid_outbox_backlog", status="RETRYING") == 2
    assert after.value("confid_outbox_backlog", status="PENDING") == 0
    assert after.has("confid_outbox_oldest_age_seconds", status="RETRYING")
    assert after.delta(before, "confid_notifications_total", status="PENDING") == 2
    assert after.delta(before, "confid_notifications_total", status="RETRYING") == 2
    assert after.delta(before, "confid_conference_id_changes_total", action="SEND_INFO",
                       outcome="SUCCESS") == 2  # fmt: skip
    head = await raw_database.get_collection("audit_events").count_documents({})  # gapless
    assert after.value("confid_audit_head_sequence") == head
    assert after.value("confid_audit_checkpoint_sequence") == head - 2  # signed at start-up
    assert after.value("confid_audit_checkpoint_age_seconds") >= 0
    await api.client.aclose()


@pytest.mark.parametrize(("step", "kind"), [(Step.COMMITTED, "finished"), (Step.LOCKED, "undone")])
async def test_recovery_repairs_are_counted_by_kind(
    settings: Settings, raw_database: Any, step: Step, kind: str
) -> None:
    fault = Fault()
    quick = replace(settings, metrics=True, recovery_grace_seconds=0)
    api = await make_api(quick, raw_database, fault=fault)
    user = await raw_database.get_collection("users").find_one({"audio": {"$exists": True}})
    before = await scrape(api)
    fault.step = step
    with pytest.raises(ProcessDied):
        await api.services.changes.reset(META, user["_id"], "crash test", None)
    await asyncio.sleep(0.01)  # recovery only touches state older than the grace period
    report = await api.services.recovery.sweep()
    after = await scrape(api)
    assert report.finished + report.undone == 1
    assert after.delta(before, "confid_recovery_repairs_total", kind=kind) == 1
    assert (
        after.total("confid_recovery_repairs_total") - before.total("confid_recovery_repairs_total")
        == 1
    )
    await api.client.aclose()


async def test_openmetrics_is_served_to_a_scraper_that_asks(metered: Api) -> None:
    response = await metered.client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_metrics_objects_live_in_their_own_registry() -> None:
    one, two = Metrics(frozenset()), Metrics(frozenset())
    one.email_status(NotificationStatus.SENT)
    sent = ("confid_notifications_total", (("status", "SENT"),))
    read = [
        Scrape.parse(asyncio.run(m.exposition(None))[0].decode()).samples[sent] for m in (one, two)
    ]
    assert read == [1.0, 0.0]

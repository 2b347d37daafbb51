"""Helpers of the bulk reset tests: starting a job over the API, counting emails, and the
exactly-once check a job must pass however it was interrupted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.api.ids import decode_id
from tests.support.api import Api, operation
from tests.support.invariants import assert_consistent
from tests.support.transports import CountingTransport


@dataclass
class Started:
    """A job started over the API."""

    id: str  # global id
    raw_id: str  # stored id
    incident_id: str
    user_ids: list[str]  # stored ids of the users it will reset
    payload: dict[str, Any]


async def enabled_users(api: Api) -> list[dict[str, Any]]:
    return [u for u in await api.users() if u["audioConferencing"]]


def stored(global_id: str, kind: str = "User") -> str:
    raw = decode_id(global_id, kind)
    assert raw is not None
    return raw


async def start_job(
    api: Api, selection: dict[str, Any], reason: str = "Dial-in details leaked", **extra: Any
) -> Started:
    data = await api.data(
        operation("StartBulkReset"),
        {"input": {"selection": selection, "reason": reason, **extra}},
    )
    payload = data["startBulkReset"]
    assert payload["userErrors"] == [], payload
    job = payload["job"]
    preview = await api.data(
        operation("PreviewBulkReset"), {"selection": selection, "first": 10_000}
    )
    user_ids = [stored(u["id"]) for u in preview["previewBulkReset"]["users"]]
    assert len(user_ids) == job["total"]
    return Started(
        job["id"], stored(job["id"], "BulkResetJob"), job["incidentId"], user_ids, payload
    )


async def job_state(api: Api, job_id: str) -> dict[str, Any]:
    data = await api.data(operation("BulkResetJob"), {"jobId": job_id, "first": 100})
    job: dict[str, Any] = data["bulkResetJob"]
    return job


async def assert_exactly_once(
    database: Any,
    job: Started,
    transport: CountingTransport | None = None,
    emails_before: Counter[str] | None = None,
    *,
    status: str = "SUCCEEDED",
    interactive: bool = False,
) -> None:
    """Every selected user reset once: one RESET entry carrying the incident id, one email,
    the new ID in place (unless `interactive` resets came after), the old one retired;
    the job ended once, its counts right, and the whole database consistent."""
    events = await (
        database.get_collection("audit_events")
        .find({"incidentId": job.incident_id})
        .sort("_id", 1)
        .to_list(None)
    )
    started = [e for e in events if e["action"] == "BULK_RESET_STARTED"]
    finished = [e for e in events if e["action"] == "BULK_RESET_FINISHED"]
    resets = [e for e in events if e["action"] == "RESET"]
    assert len(started) == 1 and started[0]["outcome"] == "SUCCESS"
    assert len(finished) == 1, finished
    assert events[0] is started[0] and events[-1] is finished[0], "the incident is framed"
    n = len(job.user_ids)
    word, *counts = finished[0]["summary"].split()
    numbers = dict(count.split("=") for count in counts)
    assert word == status
    assert (numbers["total"], numbers["reset"], numbers["failed"], numbers["notRun"]) == (
        str(n),
        str(n),
        "0",
        "0",
    )
    assert [e["outcome"] for e in resets] == ["SUCCESS"] * n, "a refused or repeated reset"
    assert sorted(e["userId"] for e in resets) == sorted(job.user_ids), "one reset per user"

    notes = (
        await database.get_collection("notifications")
        .find({"operationId": {"$in": [e["operationId"] for e in resets]}})
        .to_list(None)
    )
    assert sorted(n_["operationId"] for n_ in notes) == sorted(e["operationId"] for e in resets)
    assert {n_["kind"] for n_ in notes} == {"CONFERENCE_ID_CHANGED"}

    users = {
        u["_id"]: u
        for u in await database.get_collection("users")
        .find({"_id": {"$in": job.user_ids}})
        .to_list(None)
    }
    registry = database.get_collection("conference_ids")
    for entry in resets:
        user = users[entry["userId"]]
        if not interactive:
            assert user["audio"]["conferenceId"] == entry["newConferenceId"]
        old = await registry.find_one(
            {"bridgeId": entry["bridgeId"], "conferenceId": entry["previousConferenceId"]}
        )
        assert old["state"] == "RETIRED"
    if transport is not None:
        sent = transport.recipients() - (emails_before or Counter())
        assert sent == Counter(users[e["userId"]]["email"] for e in resets), "one email each"

    doc = await database.get_collection("bulk_reset_jobs").find_one({"_id": job.raw_id})
    assert (doc["status"], doc["done"], doc["failed"], doc["nextIndex"]) == (status, n, 0, n)
    assert "lease" not in doc
    items = (
        await database.get_collection("bulk_reset_items")
        .find({"jobId": job.raw_id, "index": {"$lt": n}})
        .to_list(None)
    )
    assert sorted(i["outcome"] for i in items) == ["RESET"] * n
    assert {i["sequence"] for i in items} == {e["_id"] for e in resets}
    await assert_consistent(database)

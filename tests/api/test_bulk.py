"""Bulk resets through the API: preview, start, follow, cancel, the incident in the trail,
and a job racing interactive resets of the same users."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from app.api.ids import encode_id
from app.audit.verify import verify_export
from app.services.steps import Step
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.audit import export_text
from tests.support.bulk import (
    assert_exactly_once,
    enabled_users,
    job_state,
    start_job,
    stored,
)
from tests.support.database import WrappedDatabase
from tests.support.transports import CountingTransport

PREVIEW = operation("PreviewBulkReset")
START = operation("StartBulkReset")


async def preview(api: Api, selection: dict[str, Any], token: str = "admin") -> dict[str, Any]:
    data = await api.data(PREVIEW, {"selection": selection, "first": 10_000}, token)
    result: dict[str, Any] = data["previewBulkReset"]
    return result


async def trail_length(api: Api) -> int:
    data = await api.data(operation("VerifyAuditTrail"))
    return int(data["verifyAuditTrail"]["checked"])


async def test_preview_by_leaked_ids_current_retired_and_unknown(api: Api) -> None:
    users = await enabled_users(api)
    current = [u["audioConferencing"]["conferenceId"] for u in users[:3]]
    # Reset a fourth user first: the ID that leaked with the others is retired already.
    retired_holder = users[3]
    retired = retired_holder["audioConferencing"]["conferenceId"]
    await api.data(operation("ResetConferenceId"), {"input": {"userId": retired_holder["id"]}})
    disabled = await api.disabled_user()
    before = await trail_length(api)
    ids_before = {u["id"]: u["audioConferencing"] for u in await api.users()}

    result = await preview(
        api,
        {
            "conferenceIds": [*current, retired, "5550001", current[0]],  # a duplicate too
            "emails": [disabled["email"].upper(), "nobody@contoso.example", users[0]["email"]],
        },
    )
    assert result["count"] == 3
    assert {u["id"] for u in result["users"]} == {u["id"] for u in users[:3]}
    skipped = [(s["selector"], s["reason"], (s["user"] or {}).get("id")) for s in result["skipped"]]
    assert skipped == [
        (retired, "ALREADY_RETIRED", retired_holder["id"]),
        ("5550001", "UNKNOWN_ID", None),
        (disabled["email"].upper(), "NOT_ENABLED", disabled["id"]),
        ("nobody@contoso.example", "UNKNOWN_USER", None),
    ]
    assert result["skippedCount"] == 4
    assert all(s["message"] for s in result["skipped"])
    # Who held a retired ID is history: helpdesk, which may not read the trail, sees the
    # skip but not the former holder (and still sees a user who is not enabled).
    helpdesk = await preview(api, {"conferenceIds": [retired], "emails": [disabled["email"]]},
                             token="helpdesk")  # fmt: skip
    assert [(s["reason"], s["user"] and s["user"]["id"]) for s in helpdesk["skipped"]] == [
        ("ALREADY_RETIRED", None),
        ("NOT_ENABLED", disabled["id"]),
    ]
    # A preview changes nothing, and writes nothing to the trail.
    assert await trail_length(api) == before
    assert {u["id"]: u["audioConferencing"] for u in await api.users()} == ids_before


async def test_preview_by_bridge_and_by_search(api: Api) -> None:
    bridges = await api.data(operation("ListBridges"))
    bridge = bridges["bridges"][0]["id"]
    enabled = await enabled_users(api)
    everyone = await preview(api, {"bridgeId": bridge})
    assert everyone["count"] == len(enabled) and everyone["skippedCount"] == 0
    # Users come in the order a job resets them (by stored id), each once.
    assert [u["id"] for u in everyone["users"]] == sorted((u["id"] for u in enabled), key=stored)
    some = await preview(api, {"bridgeId": bridge, "search": "contoso"})  # union, no twins
    assert some["count"] == len(enabled)
    assert {s["reason"] for s in some["skipped"]} == {"NOT_ENABLED"}
    limited = await api.data(PREVIEW, {"selection": {"bridgeId": bridge}, "first": 2})
    assert len(limited["previewBulkReset"]["users"]) == 2
    assert limited["previewBulkReset"]["count"] == len(enabled)


async def test_users_selected_by_id_are_named_by_the_id_as_given(api: Api) -> None:
    users = await enabled_users(api)
    disabled = await api.disabled_user()
    nobody = encode_id("User", "u99999")
    selection = {"userIds": [users[0]["id"], disabled["id"], nobody]}
    result = await preview(api, selection)
    assert [(s["selector"], s["reason"]) for s in result["skipped"]] == [
        (disabled["id"], "NOT_ENABLED"),
        (nobody, "UNKNOWN_USER"),
    ]
    job = await start_job(api, selection)
    assert await api.services.bulk.worker.run_once()
    lines = [e["node"] for e in (await job_state(api, job.id))["results"]["edges"]]
    assert [(r["outcome"], r["selector"]) for r in lines] == [
        ("RESET", users[0]["id"]),
        ("SKIPPED", disabled["id"]),
        ("SKIPPED", nobody),
    ]


@pytest.mark.parametrize(
    ("selection", "words"),
    [
        (
            {"conferenceIds": ["4821395", "48-21395"]},
            "`input.conferenceIds[1]` (INVALID_CHARACTERS)",
        ),
        ({"conferenceIds": ["1" * 33]}, "`input.conferenceIds[0]` (TOO_LONG)"),
        ({"emails": ["not an address"]}, "`input.emails[0]` (INVALID_EMAIL)"),
        ({"conferenceIds": [f"{n:07d}" for n in range(10_001)]}, "at most 10,000"),
        ({}, "NOTHING_TO_RESET"),
        ({"userIds": ["not-an-id"]}, "`input.userIds` is not a valid User id"),
        ({"bridgeId": "QnJpZGdlOm5vd2hlcmU"}, "`input.bridgeId` (NOT_FOUND)"),
        ({"search": "x" * 201}, "`input.search` (TOO_LONG)"),
    ],
)
async def test_a_malformed_selection_is_a_bad_request(
    api: Api, selection: dict[str, Any], words: str
) -> None:
    result = await api.gql(PREVIEW, {"selection": selection})
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert words in error["message"], error["message"]


async def test_start_refusals_are_audited_and_change_nothing(api: Api) -> None:
    users = await enabled_users(api)
    disabled = await api.disabled_user()
    cases = [
        ({"emails": [users[0]["email"]]}, "   ", ["REASON_REQUIRED"], [["input", "reason"]]),
        ({"emails": [disabled["email"]]}, "leak", ["NOTHING_TO_RESET"], [["input", "selection"]]),
        (
            {"conferenceIds": ["12a4567"]},
            "leak",
            ["INVALID_CHARACTERS"],
            [["input", "selection", "conferenceIds", "0"]],
        ),
        ({"emails": [users[0]["email"]]}, "x" * 501, ["TOO_LONG"], [["input", "reason"]]),
    ]
    for selection, reason, codes, fields in cases:
        data = await api.data(START, {"input": {"selection": selection, "reason": reason}})
        payload = data["startBulkReset"]
        assert payload["job"] is None
        assert [e["code"] for e in payload["userErrors"]] == codes
        assert [e["field"] for e in payload["userErrors"]] == fields
        event = payload["auditEvent"]
        assert (event["action"], event["outcome"], event["errorCodes"]) == (
            "BULK_RESET_STARTED", "REJECTED", codes,
        )  # fmt: skip
        assert event["incidentId"] is None
    jobs = await api.data(operation("ListBulkResetJobs"))
    assert jobs["bulkResetJobs"]["edges"] == []


async def test_a_start_whose_selection_changed_since_the_preview_is_refused(api: Api) -> None:
    """The preview showed 2 users and was confirmed; by the start a third matches (enabled
    meanwhile): SELECTION_CHANGED, audited, nothing started. The right count starts."""
    users = await enabled_users(api)
    disabled = await api.disabled_user()
    emails = [users[0]["email"], users[1]["email"], disabled["email"]]
    assert (await preview(api, {"emails": emails}))["count"] == 2
    await api.data(operation("EnableAudioConferencing"), {"input": {"userId": disabled["id"]}})
    variables = {"input": {"selection": {"emails": emails}, "reason": "leak", "expectedCount": 2}}
    payload = (await api.data(START, variables))["startBulkReset"]
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("SELECTION_CHANGED", ["input", "expectedCount"])
    ]
    assert (
        "now reaches 3 users, not the 2 of `expectedCount`" in payload["userErrors"][0]["message"]
    )
    event = payload["auditEvent"]
    assert (event["action"], event["outcome"], event["errorCodes"]) == (
        "BULK_RESET_STARTED", "REJECTED", ["SELECTION_CHANGED"],
    )  # fmt: skip
    assert (await api.data(operation("ListBulkResetJobs")))["bulkResetJobs"]["edges"] == []
    variables["input"]["expectedCount"] = -1  # not a count: a client's mistake, not audited
    before = await trail_length(api)
    body = await api.gql(START, variables)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await trail_length(api) == before
    variables["input"]["expectedCount"] = 3
    started = (await api.data(START, variables))["startBulkReset"]
    assert started["userErrors"] == [] and started["job"]["total"] == 3


async def test_an_idempotency_key_returns_the_same_job(api: Api) -> None:
    users = await enabled_users(api)
    variables = {
        "input": {
            "selection": {"emails": [users[0]["email"], users[1]["email"]]},
            "reason": "INC-4711",
            "idempotencyKey": "INC-4711-bulk",
        }
    }
    first = (await api.data(START, variables))["startBulkReset"]
    again = (await api.data(START, variables))["startBulkReset"]
    assert first["replayed"] is False and again["replayed"] is True
    assert again["job"]["id"] == first["job"]["id"]
    assert again["auditEvent"]["sequence"] == first["auditEvent"]["sequence"]
    # The same key with another input is refused, and audited like every refused start.
    variables["input"]["reason"] = "another reason"
    before = await trail_length(api)
    reused = (await api.data(START, variables))["startBulkReset"]
    assert reused["job"] is None and reused["replayed"] is False
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert [e["field"] for e in reused["userErrors"]] == [["input", "idempotencyKey"]]
    event = reused["auditEvent"]
    assert event is not None, "a refused start is audited"
    assert (event["action"], event["outcome"], event["errorCodes"]) == (
        "BULK_RESET_STARTED", "REJECTED", ["IDEMPOTENCY_KEY_REUSED"],
    )  # fmt: skip
    assert event["incidentId"] is None
    assert await trail_length(api) == before + 1
    latest = await api.data(operation("ListAuditEvents"), {"first": 1})
    node = latest["auditEvents"]["edges"][0]["node"]
    assert (node["sequence"], node["reason"]) == (event["sequence"], "another reason")
    jobs = await api.data(operation("ListBulkResetJobs"))
    assert len(jobs["bulkResetJobs"]["edges"]) == 1


@pytest.fixture
async def counted(settings: Settings, raw_database: Any) -> Any:
    transport = CountingTransport()
    api = await make_api(settings, raw_database, transport=transport)
    try:
        yield api, transport
    finally:
        await api.client.aclose()


async def test_a_job_over_every_demo_user_with_emails(counted: Any, raw_database: Any) -> None:
    api, transport = counted
    everyone = await api.users()
    before = transport.recipients()
    job = await start_job(api, {"emails": [u["email"] for u in everyone]}, sendEmail=True)
    enabled = [u for u in everyone if u["audioConferencing"]]
    assert job.payload["job"]["status"] == "QUEUED"
    assert job.payload["job"]["total"] == len(enabled)
    assert job.payload["job"]["skipped"] == len(everyone) - len(enabled)
    assert job.payload["auditEvent"]["summary"] == (
        f"QUEUED total={len(enabled)} skipped={len(everyone) - len(enabled)} sendEmail=true"
    )

    assert await api.services.bulk.worker.run_once()
    await assert_exactly_once(raw_database, job, transport, before)

    state = await job_state(api, job.id)
    assert (state["status"], state["done"], state["failed"], state["processed"]) == (
        "SUCCEEDED", len(enabled), 0, len(enabled),
    )  # fmt: skip
    assert state["startedAt"] and state["finishedAt"]
    results = [e["node"] for e in state["results"]["edges"]]
    assert Counter(r["outcome"] for r in results) == Counter(
        {"RESET": len(enabled), "SKIPPED": len(everyone) - len(enabled)}
    )
    for result in results:
        if result["outcome"] == "RESET":
            user = next(u for u in everyone if u["id"] == result["user"]["id"])
            assert result["previousConferenceId"] == user["audioConferencing"]["conferenceId"]
            assert result["newConferenceId"] != result["previousConferenceId"]
            assert result["auditEvent"]["incidentId"] == job.incident_id
            # The old ID reaches nobody any more.
            lookup = await api.data(
                operation("LookupConferenceId"), {"conferenceId": result["previousConferenceId"]}
            )
            assert lookup["lookupConferenceId"] is None
        else:
            assert result["skipReason"] == "NOT_ENABLED"
    # Each email is the ordinary one: the new ID, the advice, no PIN.
    notes = await api.data(operation("ListNotifications"), {"first": 100})
    changed = [e["node"] for e in notes["notifications"]["edges"]]
    assert {n["kind"] for n in changed[: len(enabled)]} == {"CONFERENCE_ID_CHANGED"}

    # The incident as a whole: filter the trail by it, export it, verify it.
    incident = await api.data(
        operation("ListAuditEvents"), {"incidentId": job.incident_id, "first": 100}
    )
    nodes = [e["node"] for e in incident["auditEvents"]["edges"]]
    assert incident["auditEvents"]["totalCount"] == len(enabled) + 2
    assert (
        nodes[0]["action"] == "BULK_RESET_FINISHED" and nodes[-1]["action"] == "BULK_RESET_STARTED"
    )
    assert nodes[0]["summary"].startswith(f"SUCCEEDED total={len(enabled)} reset={len(enabled)}")
    assert {n["actor"]["name"] for n in nodes} == {"admin-1"}
    assert {n["reason"] for n in nodes} == {"Dial-in details leaked"}
    for fmt in ("jsonl", "csv"):
        text = await export_text(api, incidentId=job.incident_id, format=fmt)
        result = verify_export(text.splitlines(keepends=True))
        assert result.ok and result.checked == len(enabled) + 2, result
    verified = await api.data(operation("VerifyAuditTrail"))
    assert verified["verifyAuditTrail"]["ok"] is True
    evidence = await api.data(operation("UserEvidence"), {"userId": enabled[0]["id"]})
    assert evidence["userEvidence"]["allEntriesVerified"] is True


class CancelOnStep:
    """Fault hook: cancels the job (as an admin would, over the API) when its `nth`
    change reaches DELIVERED."""

    def __init__(self) -> None:
        self.api: Api | None = None
        self.job_id = ""
        self.nth = 0
        self.seen = 0
        self.answer: dict[str, Any] | None = None

    async def __call__(self, step: Step) -> None:
        if self.api is None or step is not Step.DELIVERED:
            return
        self.seen += 1
        if self.seen == self.nth:
            api, self.api = self.api, None
            data = await api.data(operation("CancelBulkReset"), {"jobId": self.job_id})
            self.answer = data["cancelBulkReset"]


async def test_cancel_stops_between_users_and_an_ended_job_never_runs_again(
    settings: Settings, raw_database: Any
) -> None:
    hook = CancelOnStep()
    api = await make_api(settings, raw_database, fault=hook)
    users = await enabled_users(api)
    job = await start_job(api, {"emails": [u["email"] for u in users[:6]]})
    hook.api, hook.job_id, hook.nth = api, job.id, 2
    assert await api.services.bulk.worker.run_once()
    assert hook.answer is not None and hook.answer["userErrors"] == []
    # Asked while it ran: it finished the user under way, then stopped.
    assert hook.answer["job"]["status"] == "RUNNING" and hook.answer["job"]["cancelRequested"]
    state = await job_state(api, job.id)
    assert (state["status"], state["done"], state["processed"]) == ("CANCELLED", 2, 2)
    outcomes = [e["node"]["outcome"] for e in state["results"]["edges"]]
    assert outcomes == ["RESET", "RESET", "NOT_RUN", "NOT_RUN", "NOT_RUN", "NOT_RUN"]
    # The lines it never reached are final, and the filters and counts say so.
    for outcome, count in (("NOT_RUN", 4), ("PENDING", 0), ("RESET", 2)):
        only = await api.data(
            operation("BulkResetJob"), {"jobId": job.id, "first": 100, "outcome": outcome}
        )
        results = only["bulkResetJob"]["results"]
        assert results["totalCount"] == len(results["edges"]) == count, outcome
    untouched = {u["id"]: u["audioConferencing"]["conferenceId"] for u in users[:6]}
    after = {u["id"]: u["audioConferencing"]["conferenceId"] for u in await enabled_users(api)}
    changed = [uid for uid in untouched if after[uid] != untouched[uid]]
    assert len(changed) == 2

    events = await api.data(operation("ListAuditEvents"), {"incidentId": job.incident_id})
    nodes = [e["node"] for e in events["auditEvents"]["edges"]]
    assert [n["action"] for n in nodes] == [
        "BULK_RESET_FINISHED", "RESET", "RESET", "BULK_RESET_STARTED",
    ]  # fmt: skip
    assert nodes[0]["summary"] == "CANCELLED total=6 reset=2 failed=0 skipped=0 notRun=4"

    # Ended is ended: a second cancel is refused, and no worker ever takes it up again.
    again = await api.data(operation("CancelBulkReset"), {"jobId": job.id})
    assert [e["code"] for e in again["cancelBulkReset"]["userErrors"]] == ["JOB_FINISHED"]
    assert not await api.services.bulk.worker.run_once()
    assert (await job_state(api, job.id))["done"] == 2
    await api.client.aclose()


async def test_a_queued_job_cancelled_ends_at_once(api: Api) -> None:
    users = await enabled_users(api)
    job = await start_job(api, {"emails": [users[0]["email"]]})
    data = await api.data(operation("CancelBulkReset"), {"jobId": job.id})
    payload = data["cancelBulkReset"]
    assert payload["userErrors"] == []
    assert payload["job"]["status"] == "CANCELLED" and payload["job"]["processed"] == 0
    assert not await api.services.bulk.worker.run_once()
    state = await job_state(api, job.id)
    assert state["startedAt"] is None and state["finishedAt"] is not None
    assert [e["node"]["outcome"] for e in state["results"]["edges"]] == ["NOT_RUN"]
    finished = await api.data(
        operation("ListAuditEvents"), {"incidentId": job.incident_id, "first": 1}
    )
    node = finished["auditEvents"]["edges"][0]["node"]
    assert node["action"] == "BULK_RESET_FINISHED"
    assert node["summary"] == "CANCELLED total=1 reset=0 failed=0 skipped=0 notRun=1"
    missing = await api.data(
        operation("CancelBulkReset"), {"jobId": "QnVsa1Jlc2V0Sm9iOmpvYl9ub25l"}
    )
    assert [e["code"] for e in missing["cancelBulkReset"]["userErrors"]] == ["NOT_FOUND"]


async def test_a_job_racing_interactive_resets_of_the_same_users(
    settings: Settings, raw_database: Any
) -> None:
    # Unpaced, through a database that yields around every call: the job's changes and
    # the desk's interleave call by call.
    api = await make_api(
        replace(settings, bulk_reset_rate=0), WrappedDatabase(raw_database, interleave=True)
    )
    users = await enabled_users(api)
    job = await start_job(api, {"emails": [u["email"] for u in users]})
    reset = operation("ResetConferenceId")

    async def interactive() -> list[dict[str, Any]]:
        payloads = []
        for round_ in range(2):
            answers = await asyncio.gather(
                *[
                    api.data(reset, {"input": {"userId": u["id"], "reason": f"desk {round_}"}})
                    for u in users
                ]
            )
            payloads += [a["resetConferenceId"] for a in answers]
        return payloads

    payloads, worked = await asyncio.gather(interactive(), api.services.bulk.worker.run_once())
    assert worked and all(p["userErrors"] == [] for p in payloads)
    await assert_exactly_once(raw_database, job, interactive=True)
    # Every reset, the job's and the desk's, took its turn: each user's IDs form one line,
    # and the user holds the newest.
    for user in users:
        data = await api.data(
            operation("ListAuditEvents"),
            {"userId": user["id"], "action": "RESET", "first": 10},
        )
        chain = [e["node"] for e in reversed(data["auditEvents"]["edges"])]
        assert len(chain) == 3
        assert chain[0]["previousConferenceId"] == user["audioConferencing"]["conferenceId"]
        for earlier, later in itertools.pairwise(chain):
            assert later["previousConferenceId"] == earlier["newConferenceId"]
        now = await api.data(operation("GetUser"), {"id": user["id"]})
        assert now["user"]["audioConferencing"]["conferenceId"] == chain[-1]["newConferenceId"]
    # It was a race: the desk's resets landed while the job was under way.
    incident = await api.data(
        operation("ListAuditEvents"), {"incidentId": job.incident_id, "first": 100}
    )
    job_sequences = sorted(e["node"]["sequence"] for e in incident["auditEvents"]["edges"])
    desk = [p["auditEvent"]["sequence"] for p in payloads]
    assert any(job_sequences[0] < s < job_sequences[-1] for s in desk)
    await api.client.aclose()


async def test_a_job_is_a_node_and_reading_its_results_is_logged(api: Api) -> None:
    users = await enabled_users(api)
    job = await start_job(api, {"emails": [users[0]["email"]]})
    for role in ("admin", "auditor"):
        data = await api.data(operation("Node"), {"id": job.id}, role)
        assert data["node"] == {
            "__typename": "BulkResetJob",
            "id": job.id,
            "incidentId": job.incident_id,
            "jobStatus": "QUEUED",
        }
    refused = await api.gql(operation("Node"), {"id": job.id}, "helpdesk")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await job_state(api, job.id)
    log = await api.data(operation("AuditAccessLog"), {"actor": "admin-1", "first": 5})
    reads = [e["node"] for e in log["auditAccessLog"]["edges"]]
    assert any(
        r["what"] == "bulkResetResults" and f"jobId={job.raw_id}" in r["filters"] for r in reads
    ), reads

"""The person in the trail: a change made with an OpenID Connect token names the person
(username, role, issuer, subject, display name) in its audit entry, which verifies online
and offline; trail reads by a person are logged with their identity; the filters and the
evidence pack find them. Tokens come from a real provider (oidc-provider, on loopback)."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.domain.access import Principal
from app.domain.models import RequestMeta, Role
from app.services.steps import Step
from app.settings import Settings
from tests.support.api import ROOT, Api, make_api, operation
from tests.support.audit import export_text
from tests.support.faults import Fault, ProcessDied, first_enabled
from tests.support.idp import Provider
from tests.support.invariants import assert_consistent

ACTOR_FIELDS = "actor { name role issuer subject displayName }"
STATIC_ADMIN = {
    "name": "admin-1",
    "role": "ADMIN",
    "issuer": None,
    "subject": None,
    "displayName": None,
}


def alice(idp: Provider) -> dict[str, Any]:
    return {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }


async def events(api: Api, token: str = "auditor", **filters: Any) -> list[dict[str, Any]]:
    data = await api.data(operation("ListAuditEvents"), {"first": 50, **filters}, token=token)
    return [edge["node"] for edge in data["auditEvents"]["edges"]]


async def reset_as(api: Api, token: str, user_id: str) -> dict[str, Any]:
    query = (
        "mutation R($input: ResetConferenceIdInput!) { resetConferenceId(input: $input) {"
        f" auditEvent {{ sequence {ACTOR_FIELDS} }} userErrors {{ code }} }} }}"
    )
    data = await api.data(query, {"input": {"userId": user_id, "reason": "ticket 77"}}, token)
    payload: dict[str, Any] = data["resetConferenceId"]
    assert payload["userErrors"] == []
    return payload


async def test_a_change_made_by_a_person_names_them_and_verifies_online_and_offline(
    oidc_api: Api, idp: Provider, tokens: dict[str, str], tmp_path: Path
) -> None:
    user = await oidc_api.enabled_user()
    by_person = await reset_as(oidc_api, tokens["alice"], user["id"])
    by_token = await reset_as(oidc_api, "admin", user["id"])
    assert by_person["auditEvent"]["actor"] == alice(idp)
    assert by_token["auditEvent"]["actor"] == STATIC_ADMIN  # static tokens: as before

    # Online: the whole chain verifies, read by a person (the auditor audrey).
    verdict = await oidc_api.data(operation("VerifyAuditTrail"), token=tokens["audrey"])
    assert verdict["verifyAuditTrail"]["ok"] is True, verdict

    # Offline: the export carries the person and verifies with `python -m app.audit`.
    pem = tmp_path / "confid.pem"
    pem.write_text((await oidc_api.client.get("/audit/public-key")).text)

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.audit", "verify", str(path), "--public-key", str(pem)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip

    for fmt in ("jsonl", "csv"):
        text = await export_text(oidc_api, format=fmt)
        path = tmp_path / f"trail.{fmt}"
        path.write_text(text, encoding="utf-8", newline="")
        run = verify(path)
        assert run.returncode == 0 and run.stdout.startswith("OK:"), run.stdout + run.stderr
    records = [json.loads(line) for line in (tmp_path / "trail.jsonl").read_text().splitlines()]
    assert records[0]["format"] == "confid-audit-export/3"
    sequence = by_person["auditEvent"]["sequence"]
    (entry,) = [r for r in records if r["type"] == "entry" and r["sequence"] == sequence]
    assert entry["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }
    with (tmp_path / "trail.csv").open(encoding="utf-8", newline="") as file:
        table = [r for r in csv.reader(file) if r and not r[0].startswith("#")]
    rows = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    (row,) = [r for r in rows if r.get("sequence") == str(sequence)]
    assert (row["actorName"], row["actorIssuer"], row["actorSubject"]) == (
        "alice@example.test", idp.issuer, "alice"
    )  # fmt: skip
    assert row["actorDisplayName"] == "Alice Admin"

    # An edited identity is caught by both verifiers.
    edited = (tmp_path / "trail.jsonl").read_text().replace('"subject":"alice"', '"subject":"eve"')
    (tmp_path / "edited.jsonl").write_text(edited)
    run = verify(tmp_path / "edited.jsonl")
    assert run.returncode == 1 and f"INVALID at sequence {sequence}" in run.stdout, run.stdout


async def test_the_filters_find_the_person_by_username_or_subject(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    user = await oidc_api.enabled_user()
    await reset_as(oidc_api, tokens["alice"], user["id"])
    await reset_as(oidc_api, tokens["hugo"], user["id"])
    await reset_as(oidc_api, "admin", user["id"])

    by_name = await events(oidc_api, actor="alice@example.test")
    assert [e["actor"] for e in by_name] == [alice(idp)]
    by_subject = await events(oidc_api, actorSubject="alice")
    assert [e["actor"] for e in by_subject] == [alice(idp)]
    assert [e["actor"]["name"] for e in await events(oidc_api, actorSubject="hugo")] == [
        "hugo@example.test"
    ]
    assert await events(oidc_api, actorSubject="admin-1") == []  # a token name is no subject
    assert [e["actor"] for e in await events(oidc_api, actor="admin-1")] == [STATIC_ADMIN]
    too_long = await oidc_api.gql(operation("ListAuditEvents"), {"actorSubject": "s" * 256},
                                  token="auditor")  # fmt: skip
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    exported = await export_text(oidc_api, actorSubject="alice")
    lines = [json.loads(line) for line in exported.splitlines()]
    assert lines[0]["filter"] == {"actorSubject": "alice"} and lines[0]["count"] == 1


async def test_the_access_log_and_the_evidence_pack_name_the_person(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    user = await oidc_api.enabled_user()
    await reset_as(oidc_api, tokens["alice"], user["id"])
    evidence = await oidc_api.data(
        operation("UserEvidence"), {"userId": user["id"]}, token=tokens["audrey"]
    )
    pack = evidence["userEvidence"]
    assert pack["allEntriesVerified"] is True
    assert pack["entries"][-1]["event"]["actor"] == alice(idp)

    log = await oidc_api.data(operation("AuditAccessLog"), {"first": 5}, token="auditor")
    readers = [edge["node"] for edge in log["auditAccessLog"]["edges"]]
    evidence_read = next(r for r in readers if r["what"] == "userEvidence")
    assert evidence_read["actor"] == {
        "name": "audrey@example.test",
        "role": "AUDITOR",
        "issuer": idp.issuer,
        "subject": "audrey",
        "displayName": None,
    }


async def test_a_change_recovered_after_a_crash_still_names_the_person(
    settings: Settings, raw_database: Any
) -> None:
    """The person rides on the change's intent, so recovery writes the same actor."""
    issuer = "https://login.example/tenant/v2.0"
    person = Principal(
        "alice@example.test", Role.ADMIN, issuer=issuer, subject="alice",
        display_name="Alice Admin",
    )  # fmt: skip
    fault = Fault()
    quick = replace(settings, recovery_grace_seconds=0)
    first = await make_api(quick, raw_database, fault=fault)
    user = await first_enabled(raw_database)
    fault.step = Step.COMMITTED
    with pytest.raises(ProcessDied):
        await first.services.changes.reset(
            RequestMeta(actor=person.actor, request_id="r1"), user["_id"], None, None
        )
    await asyncio.sleep(0.01)  # recovery only touches state older than the grace period
    second = await make_api(quick, raw_database)  # a fresh process recovers at start-up
    await first.client.aclose()
    await second.client.aclose()
    entry = await raw_database.get_collection("audit_events").find_one(
        {"userId": user["_id"], "action": "RESET"}
    )
    assert entry["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }
    await assert_consistent(raw_database)

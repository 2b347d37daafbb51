"""`confid audit ...` against a running confid: events, export, offline and online verify,
checkpoints, key, access log, evidence; and the older scripts, which now run the same code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.api import ROOT, TOKENS
from tests.support.audit import ExportFile
from tests.support.cli import Confid, no_escape_codes


def changed_user(confid: Confid, index: int = 0) -> dict[str, Any]:
    """An enabled user with a reset and a refused set behind them."""
    user = [u for u in confid.users() if u["audioConferencing"]][index]
    assert confid.run("user", "reset", user["email"], "--reason", "leaked").code == 0
    assert confid.run("user", "set", user["email"], "--conference-id", "7777777").code == 1
    return user


def test_events_filters_json_and_table(confid: Confid) -> None:
    user = changed_user(confid)
    ran = confid.run("audit", "events", "--user", user["email"], "--json", role="auditor")
    assert ran.code == 0, ran
    events = ran.json()["auditEvents"]
    assert [e["node"]["action"] for e in events["edges"]] == ["SET", "RESET", "ASSIGN"]
    assert events["totalCount"] == 3
    api = confid.graphql("ListAuditEvents", {"userId": user["id"]}, role="auditor")
    assert ran.json() == api["data"]
    rejected = confid.run(
        "audit", "events", "--user", user["id"], "--outcome", "rejected", "--json"
    ).json()["auditEvents"]["edges"]
    assert [e["node"]["errorCodes"] for e in rejected] == [["WEAK_PATTERN"]]
    table = confid.run("audit", "events", "--user", user["email"], "--action", "RESET")
    assert table.code == 0 and "leaked" in table.stdout and "RESET" in table.stdout
    assert "1 matching entries" in table.stdout
    assert no_escape_codes(table.stdout, table.stderr)
    every = confid.run("audit", "events", "--all", "--first", "10", "--json", role="auditor")
    edges = every.json()["auditEvents"]["edges"]
    assert len(edges) == every.json()["auditEvents"]["totalCount"]
    assert [e["node"]["sequence"] for e in edges] == sorted(
        (e["node"]["sequence"] for e in edges), reverse=True
    )
    assert "fetching: 10/" in every.stderr  # the total is known: totalCount
    assert confid.run("audit", "events", role="helpdesk").code == 3
    bad_time = confid.run("audit", "events", "--from", "yesterday")
    assert bad_time.code == 2 and "DateTime" in bad_time.stderr


def test_export_then_verify_offline_both_formats(confid: Confid, tmp_path: Path) -> None:
    changed_user(confid, 1)
    pem = tmp_path / "confid.pem"
    key = confid.run("audit", "key", "--pem", role="auditor")
    assert key.code == 0 and key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    pem.write_text(key.stdout)
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"trail.{fmt}"
        ran = confid.run("audit", "export", "--format", fmt, "--out", str(out), role="auditor")
        assert ran.code == 0, ran
        assert f"wrote {out}" in ran.stdout and "full export" in ran.stdout
        verified = confid.run("audit", "verify", str(out), "--public-key", str(pem), role=None)
        assert verified.code == 0, verified
        assert (
            verified.stdout.startswith("OK: ") and "the export's seal is valid" in verified.stdout
        )
        # The newest entry cut off, the manifest's and end record's counts and head edited to
        # match: the seal says what the file held.
        cut = tmp_path / f"cut.{fmt}"
        cut.write_bytes("".join(ExportFile.parse(out.read_bytes().decode()).cut().lines()).encode())
        refused = confid.run("audit", "verify", str(cut), "--public-key", str(pem), role=None)
        assert refused.code == 1 and "is missing: the export's seal" in refused.stdout, refused
        every = confid.run(
            "audit", "verify", str(out), "--public-key", str(pem), "--every-signature", role=None
        )
        assert every.code == 0 and every.stdout == verified.stdout
    text = (tmp_path / "trail.jsonl").read_text()
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(text.replace('"reason":"leaked"', '"reason":"leakey"', 1))
    bad = confid.run("audit", "verify", str(tampered), "--public-key", str(pem), role=None)
    assert bad.code == 1 and "INVALID at sequence" in bad.stdout
    as_json = confid.run("audit", "verify", str(tampered), "--json", role=None).json()
    assert as_json["ok"] is False and as_json["firstInvalidSequence"] >= 1
    missing = confid.run("audit", "verify", str(tmp_path / "nope.jsonl"), role=None)
    assert missing.code == 2 and "cannot verify" in missing.stderr


def test_export_to_stdout_filtered_and_refused(confid: Confid, tmp_path: Path) -> None:
    user = changed_user(confid, 2)
    ran = confid.run("audit", "export", "--user", user["email"], "--out", "-", role="auditor")
    assert ran.code == 0, ran
    records = [json.loads(line) for line in ran.stdout.splitlines()]
    assert records[0]["type"] == "manifest" and records[0]["partial"] is True
    assert [r["sequence"] for r in records if r["type"] == "entry"] == sorted(
        r["sequence"] for r in records if r["type"] == "entry"
    )
    assert sum(r["type"] == "entry" for r in records) == records[0]["count"] == 3
    summary = confid.run(
        "audit", "export", "--out", str(tmp_path / "x.jsonl"), "--action", "SET", "--json"
    ).json()
    assert summary["count"] >= 1 and summary["partial"] is True
    refused = confid.run("audit", "export", "--out", str(tmp_path / "h.jsonl"), role="helpdesk")
    assert refused.code == 3 and "FORBIDDEN" in refused.stderr
    assert not (tmp_path / "h.jsonl").exists()


def test_verify_online(confid: Confid) -> None:
    ran = confid.run("audit", "verify", role="auditor")
    assert ran.code == 0 and ran.stdout.startswith("OK: ") and "on the server" in ran.stdout
    data = confid.run("audit", "verify", "--json").json()["verifyAuditTrail"]
    assert data["ok"] is True and data["checked"] >= 1
    every = confid.run("audit", "verify", "--every-signature", "--json").json()
    assert every["verifyAuditTrail"]["signaturesChecked"] == data["checked"]
    assert data["signaturesChecked"] < data["checked"]  # a checkpoint vouched for the rest
    assert confid.run("audit", "verify", role="helpdesk").code == 3
    assert confid.run("audit", "verify", "--public-key", "k.pem").code == 2


def test_checkpoints_key_access_log_and_evidence(confid: Confid) -> None:
    created = confid.run("audit", "checkpoints", "create", "--json")
    assert created.code == 0, created
    checkpoint = created.json()["createAuditCheckpoint"]["checkpoint"]
    assert confid.run("audit", "checkpoints", "create", role="auditor").code == 3
    listed = confid.run("audit", "checkpoints", "list", "--json", role="auditor").json()
    assert listed["auditCheckpoints"]["edges"][0]["node"] == checkpoint
    key = confid.run("audit", "key", "--json", role="helpdesk").json()["auditSigningKey"]
    assert key["keyId"] == checkpoint["keyId"] and key["algorithm"] == "Ed25519"
    user = changed_user(confid, 3)
    evidence = confid.run("audit", "evidence", user["email"], role="auditor")
    assert evidence.code == 0, evidence
    assert user["displayName"] in evidence.stdout and "7777777" in evidence.stdout
    pack = confid.run("audit", "evidence", user["id"], "--json").json()["userEvidence"]
    assert pack["allEntriesVerified"] is True and len(pack["entries"]) == 3
    log = confid.run("audit", "access-log", "--actor", "auditor-1", "--json", role="auditor")
    whats = [e["node"]["what"] for e in log.json()["auditAccessLog"]["edges"]]
    assert whats[0] == "userEvidence", whats  # the CLI's reads are recorded like any other
    assert confid.run("audit", "access-log", role="helpdesk").code == 3


def test_the_older_scripts_run_the_same_commands(confid: Confid, tmp_path: Path) -> None:
    # Run from the caller's folder with relative file names: they are the caller's files.
    out = tmp_path / "trail.jsonl"
    env = confid.env("auditor")
    env.pop("CONFID_URL")
    exported = subprocess.run(
        [str(ROOT / "scripts" / "audit-export"), "--url", confid.url, "--out", "trail.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    assert out.is_file() and not (ROOT / "trail.jsonl").exists()
    verified = subprocess.run(
        [str(ROOT / "scripts" / "audit-verify"), "trail.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines()[-1].startswith("OK: ")
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS["helpdesk"] + "\n")
    refused = subprocess.run(
        [str(ROOT / "scripts" / "audit-export"), "--url", confid.url, "--token-file",
         "token", "--out", "no.jsonl"], cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "CONFID_TOKEN"},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 3 and "FORBIDDEN" in refused.stderr


def test_keygen_never_overwrites(confid: Confid, tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    made = confid.run("audit", "keygen", "--out", str(key), role=None)
    assert made.code == 0 and "BEGIN PUBLIC KEY" in made.stdout
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    again = confid.run("audit", "keygen", "--out", str(key), role=None)
    assert again.code == 2 and key.read_bytes() == before


def test_events_and_export_by_a_persons_subject(confid: Confid, tmp_path: Path) -> None:
    """`--actor-subject` filters as GraphQL's `actorSubject` and the export's do (static
    tokens have no subject: nothing matches a made-up one)."""
    changed_user(confid, 4)
    ran = confid.run(
        "audit", "events", "--actor-subject", "no-such-subject", "--json", role="auditor"
    )
    assert ran.code == 0, ran
    assert ran.json()["auditEvents"]["totalCount"] == 0
    out = tmp_path / "person.jsonl"
    summary = confid.run(
        "audit",
        "export",
        "--actor-subject",
        "no-such-subject",
        "--out",
        str(out),
        "--json",
        role="auditor",
    )
    assert summary.code == 0, summary
    assert summary.json()["count"] == 0 and summary.json()["partial"] is True
    manifest = json.loads(out.read_text().splitlines()[0])
    assert manifest["filter"]["actorSubject"] == "no-such-subject"

"""`confid bulk-reset` and `confid jobs list|show|cancel` against a running confid whose
worker runs the jobs from its lifespan: previews, confirmation, following a job (plain
progress lines without a terminal, a live bar with one), exit codes and `--json`."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CONFID, Confid, no_escape_codes
from tests.support.served import VAST_RATE_LIMITS, running_confid

PROGRESS = re.compile(r"^resetting: (\d+)/(\d+) users$")


@pytest.fixture(scope="module")
def confid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Confid]:
    """A confid of its own: 30 demo users, jobs paced at 8 users a second (so that a job
    can be cancelled while it runs), polled for often."""
    folder = tmp_path_factory.mktemp("bulk-cli")
    with running_confid(
        folder,
        CONFID_DEMO_USERS="30",
        CONFID_BULK_RESET_RATE="8",
        CONFID_BULK_RESET_POLL_SECONDS="0.1",
        **VAST_RATE_LIMITS,
    ) as url:
        yield Confid(url, folder)


def enabled(confid: Confid) -> list[dict[str, Any]]:
    return [u for u in confid.users() if u["audioConferencing"]]


def current_ids(confid: Confid) -> dict[str, str | None]:
    return {u["id"]: (u["audioConferencing"] or {}).get("conferenceId") for u in confid.users()}


def jobs_count(confid: Confid) -> int:
    data = confid.graphql("ListBulkResetJobs", {"first": 100})["data"]
    return len(data["bulkResetJobs"]["edges"])


def write(folder: Path, name: str, *lines: str) -> str:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_a_dry_run_shows_the_preview_and_changes_nothing(confid: Confid, tmp_path: Path) -> None:
    users = enabled(confid)[:3]
    ids = [u["audioConferencing"]["conferenceId"] for u in users]
    spaced = f"{ids[0][:3]} {ids[0][3:]}#"  # as an invite prints it
    ids_file = write(
        tmp_path, "leaked.txt", "# leaked in INC-4711", spaced, ids[1], "", ids[2], "5550001"
    )
    before = current_ids(confid)
    table = confid.run("bulk-reset", "--ids-file", ids_file, "--dry-run")
    assert table.code == 0, table
    assert "Would reset 3 users; 1 skipped." in table.stdout
    assert "5550001" in table.stdout and "UNKNOWN_ID" in table.stdout
    for user in users:
        assert user["email"] in table.stdout
    as_json = confid.run("bulk-reset", "--ids-file", ids_file, "--dry-run", "--json")
    assert as_json.code == 0
    api = confid.graphql(
        "PreviewBulkReset", {"selection": {"conferenceIds": [*ids, "5550001"]}, "first": 10_000}
    )
    assert as_json.json() == api["data"]
    assert current_ids(confid) == before
    # Helpdesk may preview; an auditor may not (it would say who holds leaked IDs).
    assert confid.run("bulk-reset", "--ids-file", ids_file, "--dry-run", role="helpdesk").code == 0
    forbidden = confid.run("bulk-reset", "--ids-file", ids_file, "--dry-run", role="auditor")
    assert forbidden.code == 3 and "FORBIDDEN" in forbidden.stderr


def test_usage_mistakes_exit_2_and_start_nothing(confid: Confid, tmp_path: Path) -> None:
    before = jobs_count(confid)
    user = enabled(confid)[3]
    good = write(tmp_path, "ids.txt", user["audioConferencing"]["conferenceId"])
    bad = write(tmp_path, "bad.txt", "4821395", "48A1395")
    cases = [
        (
            ("--ids-file", bad, "--reason", "x", "--yes"),
            "bad.txt:2: '48A1395' is not a conference ID",
        ),
        (("--ids-file", good, "--bridge", "default", "--reason", "x"), "exactly one of"),
        (("--reason", "x"), "exactly one of"),
        (("--ids-file", good), "--reason is required"),
        # Not a terminal, so nobody can confirm: --yes is needed.
        (("--ids-file", good, "--reason", "leak"), "pass --yes"),
    ]
    for args, words in cases:
        ran = confid.run("bulk-reset", *args)
        assert ran.code == 2, ran
        assert words in ran.stderr, ran
    assert jobs_count(confid) == before
    helpdesk = confid.run(
        "bulk-reset", "--ids-file", good, "--reason", "leak", "--yes", role="helpdesk"
    )
    assert helpdesk.code == 3 and "FORBIDDEN" in helpdesk.stderr
    assert jobs_count(confid) == before


def test_bulk_reset_follows_the_job_with_plain_progress_lines(
    confid: Confid, tmp_path: Path
) -> None:
    users = enabled(confid)[4:9]
    ids_file = write(tmp_path, "ids.txt", *(u["audioConferencing"]["conferenceId"] for u in users))
    ran = confid.run("bulk-reset", "--ids-file", ids_file, "--reason", "INC-4711 leak", "--yes")
    assert ran.code == 0, ran
    assert no_escape_codes(ran.stdout, ran.stderr)
    progress = [PROGRESS.match(line) for line in ran.stderr.splitlines()]
    counts = [int(m.group(1)) for m in progress if m]
    assert counts and counts[-1] == 5 and counts == sorted(counts)
    assert all(m.group(2) == "5" for m in progress if m)
    assert "Job SUCCEEDED: 5 reset, 0 failed, 0 skipped, 0 not run" in ran.stdout
    after = current_ids(confid)
    for user in users:
        assert after[user["id"]] != user["audioConferencing"]["conferenceId"]
    # The whole incident is one filter away.
    incident = re.search(r"incident (inc_\w+)", ran.stdout)
    assert incident is not None
    events = confid.run("audit", "events", "--incident", incident.group(1), "--json")
    actions = [e["node"]["action"] for e in events.json()["auditEvents"]["edges"]]
    assert actions == ["BULK_RESET_FINISHED", *["RESET"] * 5, "BULK_RESET_STARTED"]


def test_users_file_with_json_prints_the_ended_job(confid: Confid, tmp_path: Path) -> None:
    users = enabled(confid)[9:11]
    disabled = next(u for u in confid.users() if not u["audioConferencing"])
    users_file = write(
        tmp_path, "people.txt", users[0]["email"].upper(), users[1]["id"], disabled["email"],
        "nobody@contoso.example",
    )  # fmt: skip
    ran = confid.run(
        "bulk-reset", "--users-file", users_file, "--reason", "Spreadsheet leaked", "--yes",
        "--no-send-email", "--json",
    )  # fmt: skip
    assert ran.code == 0, ran
    job = ran.json()["bulkResetJob"]
    assert (job["status"], job["done"], job["skipped"], job["sendEmail"]) == (
        "SUCCEEDED", 2, 2, False,
    )  # fmt: skip
    outcomes = {(r["outcome"], r["skipReason"]) for r in job["results"]}
    assert outcomes == {("RESET", None), ("SKIPPED", "NOT_ENABLED"), ("SKIPPED", "UNKNOWN_USER")}
    # Each line names its user as the file did: the email as written, the id as given.
    selectors = {r["selector"] for r in job["results"]}
    assert selectors == {
        users[0]["email"].upper(),
        users[1]["id"],
        disabled["email"],
        "nobody@contoso.example",
    }
    api = confid.graphql("BulkResetJob", {"jobId": job["id"], "first": 100})["data"]
    assert [e["node"] for e in api["bulkResetJob"]["results"]["edges"]] == job["results"]
    # The same key again follows the same job instead of starting another.
    before = jobs_count(confid)
    key = ("--idempotency-key", "INC-4712")
    first = confid.run("bulk-reset", "--users-file", users_file, "--reason", "again", "--yes", *key)
    again = confid.run("bulk-reset", "--users-file", users_file, "--reason", "again", "--yes", *key)
    assert first.code == again.code == 0
    assert "started earlier with this idempotency key" in again.stdout
    assert jobs_count(confid) == before + 1


def latest_entry(confid: Confid) -> dict[str, Any]:
    data = confid.graphql("ListAuditEvents", {"first": 1})["data"]
    node: dict[str, Any] = data["auditEvents"]["edges"][0]["node"]
    return node


def test_nothing_to_reset_is_the_servers_refusal(confid: Confid, tmp_path: Path) -> None:
    """The command does not refuse by itself: it asks confid to start with the preview's
    count (0), and prints confid's refusal word for word, which the trail records like any
    refused start. Nothing unconfirmed can start: had the selection reached someone by
    then, confid would refuse SELECTION_CHANGED."""
    ids_file = write(tmp_path, "ids.txt", "5550002", "5550003")
    selection = {"conferenceIds": ["5550002", "5550003"]}
    api = confid.graphql("StartBulkReset", {"input": {"selection": selection, "reason": "leak"}})
    [error] = api["data"]["startBulkReset"]["userErrors"]
    words = f"confid: refused: NOTHING_TO_RESET [input.selection]: {error['message']}"
    before = jobs_count(confid)
    # No --yes and no terminal: with nobody to reset there is nothing to confirm.
    for extra in ((), ("--yes",)):
        ran = confid.run("bulk-reset", "--ids-file", ids_file, "--reason", "leak", *extra)
        assert ran.code == 1, ran
        assert "Would reset 0 users; 2 skipped." in ran.stdout
        entry = latest_entry(confid)
        assert ran.stderr.splitlines() == [
            words,
            f"  (recorded in the audit trail as entry #{entry['sequence']})",
        ]
        assert (entry["action"], entry["outcome"], entry["errorCodes"], entry["reason"]) == (
            "BULK_RESET_STARTED", "REJECTED", ["NOTHING_TO_RESET"], "leak",
        )  # fmt: skip
    as_json = confid.run("bulk-reset", "--ids-file", ids_file, "--reason", "leak", "--json")
    assert as_json.code == 1
    payload = as_json.json()["startBulkReset"]
    assert payload["userErrors"] == [error] and payload["job"] is None
    assert payload["auditEvent"]["sequence"] == latest_entry(confid)["sequence"]
    assert jobs_count(confid) == before


def test_jobs_list_show_and_cancel(confid: Confid) -> None:
    bridge = confid.graphql("ListBridges", {})["data"]["bridges"][0]
    # A whole bridge, detached; at 8 users a second it is still running when cancelled.
    started = confid.run(
        "bulk-reset", "--bridge", bridge["name"], "--reason", "Rotation", "--yes", "--detach",
        "--json",
    )  # fmt: skip
    assert started.code == 0, started
    job = started.json()["startBulkReset"]["job"]
    cancelled = confid.run("jobs", "cancel", job["incidentId"])
    assert cancelled.code == 0, cancelled
    assert "Cancel requested" in cancelled.stdout or "Job cancelled" in cancelled.stdout
    followed = confid.run("jobs", "show", job["id"], "--follow")
    assert followed.code == 1, followed
    assert "the job ended CANCELLED" in followed.stderr
    shown = confid.run("jobs", "show", job["incidentId"], "--json", "--outcome", "NOT_RUN")
    assert shown.code == 0
    state = shown.json()["bulkResetJob"]
    assert state["status"] == "CANCELLED" and 0 < len(state["results"]) == (
        state["total"] - state["processed"]
    )
    assert {r["outcome"] for r in state["results"]} == {"NOT_RUN"}
    waiting = confid.run("jobs", "show", job["id"], "--json", "--outcome", "pending")
    assert waiting.json()["bulkResetJob"]["results"] == [], "an ended job has nothing waiting"
    listed = confid.run("jobs", "list", "--json")
    assert listed.json()["bulkResetJobs"]["edges"][0]["node"]["id"] == job["id"]
    table = confid.run("jobs", "list")
    assert job["incidentId"] in table.stdout and "CANCELLED" in table.stdout
    again = confid.run("jobs", "cancel", job["id"])
    assert again.code == 1 and "JOB_FINISHED" in again.stderr
    assert confid.run("jobs", "show", "inc_nothing").code == 1
    assert confid.run("jobs", "show", "not-an-id").code == 2
    assert confid.run("jobs", "list", role="helpdesk").code == 3
    assert confid.run("jobs", "list", role="auditor").code == 0
    assert confid.run("jobs", "cancel", job["id"], role="auditor").code == 3


def test_on_a_terminal_it_asks_and_draws_a_live_bar(confid: Confid, tmp_path: Path) -> None:
    """Under a pseudo-terminal: the confirmation prompt is answered, Rich draws the bar."""
    users = enabled(confid)[11:14]
    ids_file = write(tmp_path, "ids.txt", *(u["audioConferencing"]["conferenceId"] for u in users))
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(CONFID), "bulk-reset", "--ids-file", ids_file, "--reason", "leak"],
        env={**confid.env("admin"), "TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    screen = ""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk.decode("utf-8", "replace")
            if not answered and "[y/N]" in screen:
                os.write(main, b"y\n")
                answered = True
        elif process.poll() is not None:
            break
    os.close(main)
    assert process.wait(timeout=30) == 0, screen
    assert answered and "Reset the conference IDs of 3 users now?" in screen
    assert "\x1b[" in screen and "resetting: " not in screen
    assert "Job SUCCEEDED: 3 reset" in screen

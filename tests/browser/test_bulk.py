"""The admin page's Bulk reset view in a real browser: paste leaked IDs and emails, read the
preview, confirm with a reason, watch the progress bar, read the result list, cancel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import operation
from tests.support.browser import SERVER_LOG, Server, Visit, expect, sign_in
from tests.support.served import running_confid


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A confid of this module's own: jobs paced at 4 users a second, so that one can be
    watched and cancelled while it runs."""
    folder = tmp_path_factory.mktemp("browser-bulk")
    log = SERVER_LOG.with_name("browser-bulk-server.log")
    with running_confid(
        folder,
        log,
        CONFID_DEMO_USERS="24",
        CONFID_BULK_RESET_RATE="4",
        CONFID_BULK_RESET_POLL_SECONDS="0.2",
    ) as url:
        yield Server(url=url)


def everyone(server: Server) -> list[dict[str, Any]]:
    data = server.gql(operation("ListUsers"), {"first": 100})
    return [edge["node"] for edge in data["users"]["edges"]]


def test_admin_resets_leaked_ids_as_one_incident(visit: Visit, server: Server) -> None:
    users = everyone(server)
    enabled = [u for u in users if u["audioConferencing"]]
    leaked = enabled[:3]
    ids = [u["audioConferencing"]["conferenceId"] for u in leaked]
    # A fourth leaked ID was reset already (by the helpdesk, this morning): retired.
    earlier = enabled[3]
    retired = earlier["audioConferencing"]["conferenceId"]
    server.gql(operation("ResetConferenceId"), {"input": {"userId": earlier["id"]}}, "helpdesk")
    disabled = next(u for u in users if not u["audioConferencing"])

    page = visit.page
    sign_in(visit, "admin")
    page.get_by_role("button", name="Bulk reset").click()
    expect(page.get_by_role("heading", name="Bulk reset", level=1)).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    pasted = "\n".join(
        [
            f"{ids[0][:3]} {ids[0][3:]}#",
            f"{ids[1]}, {ids[2]}",
            retired,
            "5550001",
            disabled["email"],
        ]
    )
    field = page.get_by_label("Leaked conference IDs or email addresses")
    field.fill("4821395\nnot an id")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-input-check")).to_contain_text("Line 2: “not an id”")
    field.fill(pasted)
    page.get_by_role("button", name="Preview").click()

    summary = page.locator("#bulk-preview-summary")
    expect(summary).to_contain_text("3 users would be reset; 3 skipped. Nothing has changed yet.")
    for user in leaked:
        expect(page.locator("#bulk-preview-users")).to_contain_text(user["email"])
    skipped = page.locator("#bulk-preview-skipped tbody tr")
    expect(skipped).to_have_count(3)
    expect(page.locator("#bulk-preview-skipped tr[data-reason='ALREADY_RETIRED']")).to_contain_text(
        earlier["email"]
    )
    expect(page.locator("#bulk-preview-skipped tr[data-reason='UNKNOWN_ID']")).to_contain_text(
        "5550001"
    )
    expect(page.locator("#bulk-preview-skipped tr[data-reason='NOT_ENABLED']")).to_contain_text(
        disabled["email"]
    )
    # Nothing changed yet.
    assert [u["audioConferencing"]["conferenceId"] for u in leaked] == ids

    start = page.get_by_role("button", name="Reset 3 conference IDs…")
    start.click()
    expect(page.locator("#bulk-reason-error")).to_contain_text("Give a reason")
    page.get_by_label("Reason (required, kept in every audit entry of the incident)").fill(
        "INC-4711: invite with dial-in details forwarded outside"
    )
    visit.shot("bulk-1-preview", docs="bulk-reset-preview", full_page=True)
    start.click()
    dialog = page.get_by_role("dialog", name="Reset these conference IDs?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("3 users")
    expect(page.locator("#bulk-cancel-dialog")).to_be_focused()  # the safe choice first
    with page.expect_request(
        lambda r: r.method == "POST" and "startBulkReset" in (r.post_data or "")
    ) as sent:
        dialog.get_by_role("button", name="Reset conference IDs").click()
    # The count confirmed goes with the start: confid refuses it should the selection have
    # changed since the preview (SELECTION_CHANGED).
    assert sent.value.post_data_json["variables"]["input"]["expectedCount"] == 3

    status = page.locator("#bulk-job-status")
    expect(status).to_have_text("Succeeded", timeout=30_000)
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "3")
    expect(page.locator("#bulk-progress-text")).to_contain_text(
        "3 of 3 users (100%): 3 reset, 0 refused; 3 skipped."
    )
    expect(page.locator("#bulk-ending-note")).to_have_text(
        "3 users were reset: their old IDs no longer work, and meeting invites that carry them "
        "must be rescheduled. Each was emailed the new ID."
    )
    rows = page.locator("#bulk-results tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#bulk-results tr[data-outcome='RESET']")).to_have_count(3)
    expect(page.locator("#bulk-results tr[data-outcome='SKIPPED']")).to_have_count(3)
    incident = page.locator("#bulk-incident").inner_text()
    assert re.fullmatch(r"inc_[0-9a-f]{24}", incident)
    visit.shot("bulk-2-done", docs="bulk-reset", full_page=True)

    # What the page says is what happened: new IDs, one RESET entry each in the incident.
    now = {u["id"]: u for u in everyone(server)}
    for user, old in zip(leaked, ids, strict=True):
        new = now[user["id"]]["audioConferencing"]["conferenceId"]
        assert new != old
        row = page.locator("#bulk-results tbody tr", has_text=user["email"])
        expect(row).to_contain_text(f"{old} → {new}")
    trail = server.gql(operation("ListAuditEvents"), {"incidentId": incident, "first": 20})
    actions = [e["node"]["action"] for e in trail["auditEvents"]["edges"]]
    assert actions == ["BULK_RESET_FINISHED", "RESET", "RESET", "RESET", "BULK_RESET_STARTED"]
    # The job is in the recent list, and a user's history names the incident.
    expect(page.locator("#bulk-recent")).to_contain_text("INC-4711")
    page.get_by_role("button", name="Users").click()
    page.get_by_label("Search by name or email").fill(leaked[0]["email"])
    expect(page.locator(".user-item")).to_have_count(1)
    page.locator(".user-item").click()
    expect(page.locator("#history-list li[data-action='RESET']").first).to_contain_text(incident)
    assert visit.foreign_requests() == []
    assert visit.problems == []


def test_admin_cancels_a_running_job(visit: Visit, server: Server) -> None:
    users = [u for u in everyone(server) if u["audioConferencing"]][6:18]
    page = visit.page
    sign_in(visit, "admin")
    page.get_by_role("button", name="Bulk reset").click()
    page.get_by_label("Leaked conference IDs or email addresses").fill(
        "\n".join(u["email"] for u in users)
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview-summary")).to_contain_text("12 users would be reset")
    page.locator("#bulk-reason").fill("Spreadsheet of IDs leaked")
    page.get_by_role("button", name="Reset 12 conference IDs…").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset conference IDs").click()
    # At 4 users a second the job is still running: cancel it.
    cancel = page.get_by_role("button", name="Cancel job")
    expect(cancel).to_be_visible()
    cancel.click()
    expect(page.locator("#bulk-job-status")).to_have_text("Cancelled", timeout=30_000)
    expect(cancel).to_have_count(0)
    done = int(page.locator("#bulk-progress").get_attribute("value") or "0")
    assert done < 12
    # The lines it never reached are final: not run, nothing changed; none left waiting.
    expect(page.locator("#bulk-results tr[data-outcome='NOT_RUN']")).to_have_count(12 - done)
    expect(page.locator("#bulk-results tr[data-outcome='PENDING']")).to_have_count(0)
    expect(page.locator("#bulk-results tr[data-outcome='RESET']")).to_have_count(done)
    expect(page.locator("#bulk-results tr[data-outcome='NOT_RUN']").first).to_contain_text(
        "Not run"
    )
    note = page.locator("#bulk-ending-note")
    expect(note).to_contain_text(
        f"{12 - done} not run: the job was cancelled before it reached them, and nothing was "
        "changed for them."
    )
    expect(note).not_to_contain_text("Each was emailed")
    if done:
        expect(note).to_contain_text("emailed the new ID")
        expect(note).to_contain_text("Only the")
    visit.shot("bulk-3-cancelled")
    assert visit.problems == []


def test_a_selection_that_changed_since_the_preview_is_previewed_again(
    visit: Visit, server: Server
) -> None:
    """The preview showed 1 user; before the confirm, a second one in the selection is
    enabled: confid refuses (SELECTION_CHANGED), the stale preview goes, nothing is reset."""
    users = everyone(server)
    enabled = [u for u in users if u["audioConferencing"]][20]
    disabled = [u for u in users if not u["audioConferencing"]][-1]
    page = visit.page
    sign_in(visit, "admin")
    page.get_by_role("button", name="Bulk reset").click()
    page.get_by_label("Leaked conference IDs or email addresses").fill(
        f"{enabled['email']}\n{disabled['email']}"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview-summary")).to_contain_text("1 user would be reset")
    server.gql(operation("EnableAudioConferencing"), {"input": {"userId": disabled["id"]}})
    page.locator("#bulk-reason").fill("Leaked in a chat")
    page.get_by_role("button", name="Reset 1 conference ID…").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset conference IDs").click()
    refusal = page.locator("#bulk-job")
    expect(refusal).to_contain_text("SELECTION_CHANGED")
    expect(refusal).to_contain_text("Preview the selection again")
    expect(page.locator("#bulk-preview-summary")).to_have_count(0)
    after = {u["id"]: u for u in everyone(server)}
    assert after[enabled["id"]]["audioConferencing"] == enabled["audioConferencing"]
    assert visit.problems == []


@pytest.mark.parametrize("role", ["helpdesk", "auditor"])
def test_only_admins_see_the_bulk_view(visit: Visit, role: str) -> None:
    sign_in(visit, role)
    expect(visit.page.locator("#bulk")).to_be_hidden()
    expect(visit.page.get_by_role("button", name="Bulk reset")).to_have_count(0)
    # An auditor still has the Activity view; a helpdesk has no other view at all.
    expect(visit.page.locator("#views")).to_be_visible() if role == "auditor" else expect(
        visit.page.locator("#views")
    ).to_be_hidden()

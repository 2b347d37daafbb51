"""The admin page's Activity view in a real browser: the chart, its numbers, the live feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import operation
from tests.support.browser import Server, Visit, expect, sign_in

TODAY_KEYS = ("enabled", "set", "reset", "sendInfo", "rejected")


@pytest.fixture(scope="module")
def last_user(server: Server) -> dict[str, Any]:
    data = server.gql(operation("ListUsers"), {"first": 100})
    enabled = [e["node"] for e in data["users"]["edges"] if e["node"]["audioConferencing"]]
    return enabled[-1]  # the admin page tests take theirs from the front


def today_row(visit: Visit) -> Any:
    return visit.page.locator("#activity-table tbody tr").last


def cell(row: Any, key: str) -> int:
    return int(row.locator(f"td[data-key='{key}']").inner_text())


def test_the_chart_renders_and_a_new_entry_arrives_live(
    visit: Visit, server: Server, last_user: dict[str, Any], graphiql_build: None
) -> None:
    page = visit.page
    sign_in(visit, "auditor")
    page.get_by_role("button", name="Activity").click()
    expect(page.locator("#activity-title")).to_be_focused()
    expect(page.locator("#live-status")).to_contain_text("Live:")

    # The table holds the server's own counts for the last 14 days.
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=13)
    data = server.gql(
        operation("ConferenceIdActivity"),
        {"from": start.isoformat(), "interval": "DAY"},
        role="auditor",
    )
    buckets = data["conferenceIdActivity"]
    rows = page.locator("#activity-table tbody tr")
    expect(rows).to_have_count(len(buckets))
    page.locator("#activity-numbers summary").click()
    row = today_row(visit)
    assert [cell(row, key) for key in TODAY_KEYS] == [buckets[-1][key] for key in TODAY_KEYS]
    assert buckets[-1]["enabled"] > 0  # the demo seed enabled users today

    # The chart is drawn (the canvas is not blank).
    page.wait_for_function(
        """() => {
          const canvas = document.getElementById('activity-chart');
          if (!canvas || !canvas.width) return false;
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
          return pixels.data.some((value) => value !== 0);
        }"""
    )
    resets_before = cell(row, "reset")

    # A reset made through the API appears in the feed and in today's count, no reload.
    result = server.gql(
        operation("ResetConferenceId"),
        {"input": {"userId": last_user["id"], "reason": "seen live in the browser"}},
    )
    sequence = result["resetConferenceId"]["auditEvent"]["sequence"]
    item = page.locator(f"#live-feed li[data-sequence='{sequence}']")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("seen live in the browser")
    expect(item).to_contain_text(last_user["displayName"])
    expect(page.locator("#live-feed li").first).to_have_attribute("data-sequence", str(sequence))
    expect(row.locator("td[data-key='reset']")).to_have_text(str(resets_before + 1))
    visit.shot("admin-7-activity-numbers", full_page=True)
    page.locator("#activity-numbers summary").click()  # folded again: chart and feed
    visit.shot("admin-8-activity", docs="admin-activity")

    # Keyboard: the range buttons and the pause button work without a mouse.
    page.locator("#activity-title").focus()
    for _ in range(3):
        page.keyboard.press("Tab")  # 7 days, 14 days, 30 days
    page.keyboard.press("Enter")
    expect(page.locator(".range-button[data-days='30']")).to_have_attribute("aria-pressed", "true")
    expect(rows).to_have_count(30)
    page.locator("#live-pause").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#live-pause")).to_have_attribute("aria-pressed", "true")
    paused = server.gql(operation("ResetConferenceId"), {"input": {"userId": last_user["id"]}})
    held = paused["resetConferenceId"]["auditEvent"]["sequence"]
    expect(page.locator("#live-status")).to_contain_text("1 new entry waiting")
    expect(page.locator(f"#live-feed li[data-sequence='{held}']")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator(f"#live-feed li[data-sequence='{held}']")).to_have_count(1)

    assert visit.foreign_requests() == []
    assert visit.problems == []


def test_helpdesk_has_no_activity_view(visit: Visit, server: Server) -> None:
    sign_in(visit, "helpdesk")
    expect(visit.page.get_by_role("button", name="Activity")).to_have_count(0)
    assert visit.problems == []

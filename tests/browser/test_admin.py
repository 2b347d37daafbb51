"""The admin page in a real browser: sign-in, role-aware controls, reset, set, send."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import TOKENS, operation
from tests.support.browser import Server, Visit, expect, open_visit, sign_in


@pytest.fixture(scope="module")
def everyone(server: Server) -> list[dict[str, Any]]:
    data = server.gql(operation("ListUsers"), {"first": 100})
    return [edge["node"] for edge in data["users"]["edges"]]


@pytest.fixture(scope="module")
def users(everyone: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The demo users enabled for audio conferencing; each test takes its own."""
    return [user for user in everyone if user["audioConferencing"]]


@pytest.fixture(scope="module")
def not_enabled(everyone: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The demo users not enabled yet (the demo seeds a few)."""
    found = [user for user in everyone if not user["audioConferencing"]]
    assert len(found) >= 2
    return found


def open_user(visit: Visit, user: dict[str, Any]) -> None:
    page = visit.page
    page.get_by_label("Search by name or email").fill(user["email"])
    item = page.locator(f".user-item[data-user-id='{user['id']}']")
    expect(page.locator(".user-item")).to_have_count(1)
    item.click()
    expect(page.locator("#detail-title")).to_have_text(user["displayName"])


def current_id(server: Server, user: dict[str, Any]) -> str:
    data = server.gql(operation("GetUser"), {"id": user["id"]})
    conference_id: str = data["user"]["audioConferencing"]["conferenceId"]
    return conference_id


def test_a_refused_token_shows_the_server_message(visit: Visit, server: Server) -> None:
    request = urllib.request.Request(
        f"{server.url}/graphql",
        data=b'{"query": "{ viewer { name } }"}',
        headers={"Content-Type": "application/json", "Authorization": "Bearer nope"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    message = json.load(refused.value)["errors"][0]["message"]

    page = visit.page
    page.goto(f"{server.url}/")
    page.get_by_label("Bearer token").fill("nope")
    page.keyboard.press("Enter")
    error = page.locator("#sign-in-error")
    expect(error).to_contain_text(message)
    expect(error).to_contain_text("UNAUTHENTICATED")
    assert "nope" not in page.url
    assert page.evaluate("() => sessionStorage.length") == 0
    visit.shot("admin-0-refused-token")
    assert visit.foreign_requests() == []


def test_helpdesk_resets_an_id_through_the_dialog(
    visit: Visit, server: Server, users: list[dict[str, Any]], not_enabled: list[dict[str, Any]]
) -> None:
    user = users[0]
    old = current_id(server, user)
    page = visit.page
    sign_in(visit, "helpdesk")
    # The token lives in session storage, never in the address.
    assert TOKENS["helpdesk"] not in page.url
    assert page.evaluate("() => sessionStorage.getItem('confid.token')") == TOKENS["helpdesk"]
    visit.shot("admin-1-users")
    open_user(visit, user)
    expect(page.locator("#conference-id")).to_have_text(old)
    # Helpdesk may reset and send, but choosing an ID needs an admin.
    expect(page.locator("#set-form")).to_have_count(0)
    expect(page.locator("#choose-note")).to_be_visible()

    page.get_by_role("button", name="Reset conference ID…").click()
    dialog = page.get_by_role("dialog", name="Reset conference ID?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"The current ID {old} stops working immediately")
    expect(dialog).to_contain_text("must be rescheduled")
    expect(page.locator("#reset-cancel")).to_be_focused()  # the safe choice comes first
    dialog.get_by_label("Reason").fill("Shared in a public channel")
    visit.shot("admin-2-reset-dialog", docs="admin-reset-dialog")
    dialog.get_by_role("button", name="Reset conference ID").click()
    expect(dialog).to_be_hidden()

    new_id = page.locator("#new-conference-id")
    expect(new_id).to_have_text(re.compile(r"^\d{7}$"))
    new = new_id.inner_text()
    assert new != old
    expect(page.locator("#conference-id")).to_have_text(new)
    entry = page.locator("#history-list li[data-action='RESET'][data-outcome='SUCCESS']")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"{old} → {new}")
    expect(entry).to_contain_text("Shared in a public channel")
    expect(entry).to_contain_text("helpdesk-1")
    expect(page.locator(f".user-item[data-user-id='{user['id']}']")).to_contain_text(new)
    visit.shot("admin-3-after-reset", full_page=True)
    assert current_id(server, user) == new  # the server agrees with the page

    # Send conference info to another address.
    page.get_by_label("Send to another address instead (optional)").fill("desk@example.org")
    page.get_by_role("button", name="Send conference info").click()
    expect(page.locator("#send-result")).to_contain_text("Email to desk@example.org")
    sent = page.locator("#history-list li[data-action='SEND_INFO']")
    expect(sent).to_contain_text("desk@example.org (not the primary address)")

    # A user who is not enabled yet can be enabled, and gets an ID.
    open_user(visit, not_enabled[-1])
    expect(page.locator("#conference-id")).to_have_count(0)
    page.get_by_role("button", name="Enable audio conferencing").click()
    expect(page.locator("#ac-result")).to_contain_text("Enabled with conference ID")
    expect(page.locator("#conference-id")).to_have_text(re.compile(r"^\d{7}$"))

    assert visit.foreign_requests() == []
    assert visit.problems == []


def test_admin_sees_which_rule_a_chosen_id_breaks(
    visit: Visit, server: Server, users: list[dict[str, Any]]
) -> None:
    user = users[1]
    old = current_id(server, user)
    page = visit.page
    sign_in(visit, "admin")
    open_user(visit, user)
    field = page.get_by_label("New conference ID")
    check = page.locator("#new-id-check")

    field.fill("1234567")
    weak = check.locator("li[data-code='WEAK_PATTERN']")
    expect(weak).to_have_attribute("data-rule", "SEQUENCE")
    expect(weak).to_contain_text("Too easy to guess: digits in sequence SEQUENCE")
    expect(field).to_have_attribute("aria-invalid", "true")
    visit.shot("admin-4-invalid-id", docs="admin")

    field.fill("12a4567")
    expect(check.locator("li[data-code='INVALID_CHARACTERS']")).to_be_visible()
    field.fill("123")
    expect(check).to_have_text("3 of 7 digits.")
    field.fill(old)
    expect(check.locator("li[data-code='SAME_AS_CURRENT']")).to_be_visible()

    # Submitted anyway, the server refuses and says why; nothing changes.
    field.fill("1212121")
    page.get_by_role("button", name="Set conference ID", exact=True).click()
    result = page.locator("#change-result")
    expect(result).to_contain_text("confid refused the change")
    expect(result.locator("li[data-rule='REPEATED_GROUP']")).to_be_visible()
    expect(page.locator("#conference-id")).to_have_text(old)
    refused = page.locator("#history-list li[data-action='SET'][data-outcome='REJECTED']")
    expect(refused).to_contain_text("WEAK_PATTERN")

    # A good ID goes through, and the history shows it.
    check_query = operation("CheckConferenceId")
    chosen = next(
        candidate
        for candidate in ("4821395", "5930724", "6172843", "7396051")
        if server.gql(check_query, {"userId": user["id"], "conferenceId": candidate})[
            "checkConferenceId"
        ]["valid"]
    )
    field.fill(chosen)
    expect(check).to_contain_text(f"{chosen} can be used")
    page.locator("#set-form").get_by_label("Reason").fill("Requested by the user")
    page.get_by_role("button", name="Set conference ID", exact=True).click()
    expect(page.locator("#conference-id")).to_have_text(chosen)
    done = page.locator("#history-list li[data-action='SET'][data-outcome='SUCCESS']")
    expect(done).to_contain_text(f"{old} → {chosen}")
    expect(
        page.locator("#emails-list li[data-kind='CONFERENCE_ID_CHANGED']").first
    ).to_contain_text(chosen)
    visit.shot("admin-5-id-set", full_page=True)
    assert current_id(server, user) == chosen
    assert visit.foreign_requests() == []
    assert visit.problems == []


def test_auditor_sees_no_mutation_controls(
    visit: Visit, server: Server, users: list[dict[str, Any]], not_enabled: list[dict[str, Any]]
) -> None:
    page = visit.page
    sign_in(visit, "auditor")
    # Pages of ten, in directory order.
    names = page.locator(".user-name")
    expect(names).to_have_count(10)
    first_page = names.all_inner_texts()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#page-label")).to_have_text("Page 2")
    expect(names.first).not_to_have_text(first_page[0])
    assert set(names.all_inner_texts()).isdisjoint(first_page)
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("#page-label")).to_have_text("Page 1")
    expect(names.first).to_have_text(first_page[0])
    open_user(visit, users[2])
    for name in (
        "Reset conference ID…",
        "Set conference ID",
        "Send conference info",
        "Enable audio conferencing",
    ):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("input:visible")).to_have_count(1)  # the search box, nothing else
    expect(page.locator("#read-only-note")).to_contain_text("Auditor")
    # Auditors may read the trail: the assignment and its email are listed.
    expect(page.locator("#history-list li[data-action='ASSIGN']")).to_have_count(1)
    expect(page.locator("#emails-list li")).not_to_have_count(0)
    visit.shot("admin-6-auditor", full_page=True)

    # Nor for a user who is not enabled yet.
    open_user(visit, not_enabled[0])
    expect(page.locator("#ac-title")).to_be_visible()
    expect(page.get_by_text("not enabled for audio conferencing yet")).to_be_visible()
    expect(page.get_by_role("button", name="Enable audio conferencing")).to_have_count(0)
    assert visit.foreign_requests() == []
    assert visit.problems == []


@pytest.fixture
def zoomed(browser: Any, server: Server) -> Iterator[Visit]:
    """A 1280 x 800 window at 200% zoom: 640 x 400 CSS pixels, twice as dense."""
    yield from open_visit(
        browser, server, viewport={"width": 640, "height": 400}, device_scale_factor=2
    )


def _focused_id(visit: Visit) -> str:
    focused: str = visit.page.evaluate("() => document.activeElement?.id || ''")
    return focused


def _tab_to(visit: Visit, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        if _focused_id(visit) == element_id:
            return
        visit.page.keyboard.press("Tab")
    pytest.fail(f"#{element_id} cannot be reached with the Tab key")


def _no_sideways_scroll(visit: Visit) -> None:
    overflow = visit.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_keyboard_only_at_200_percent_zoom(
    zoomed: Visit, server: Server, users: list[dict[str, Any]]
) -> None:
    visit, page, user = zoomed, zoomed.page, users[3]
    page.goto(f"{server.url}/")
    _tab_to(visit, "token")
    page.keyboard.type(TOKENS["helpdesk"])
    page.keyboard.press("Enter")
    expect(page.locator("#search")).to_be_focused()
    _no_sideways_scroll(visit)
    page.keyboard.type(user["email"])
    expect(page.locator(".user-item")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(page.locator(".user-item")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#detail-title")).to_be_focused()
    _tab_to(visit, "reset-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#reset-cancel")).to_be_focused()
    visit.shot("admin-7-zoom-200-dialog")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#reset-button")).to_be_focused()
    _no_sideways_scroll(visit)
    visit.shot("admin-8-zoom-200", full_page=True)
    assert visit.problems == []

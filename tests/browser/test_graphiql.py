"""GraphiQL in a real browser: served from confid's origin only; the token is pasted once
(in the bar, in any tab's Headers pane, or on the admin page in the same browser tab) and
every example tab, the explorer and the docs use it."""

from __future__ import annotations

import json
import re

from tests.support.api import OPERATIONS, TOKENS
from tests.support.browser import RUN, Server, Visit, expect, page_text, run_tab, sign_in

QUERY_EDITOR = ".monaco-editor[data-uri$='operation.graphql']"
HEADERS_EDITOR = ".monaco-editor[data-uri$='headers.json']"


def test_the_token_pasted_once_serves_every_tab_the_explorer_and_the_docs(
    visit: Visit, server: Server, graphiql_build: None
) -> None:
    page = visit.page
    response = page.goto(f"{server.url}/graphql")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "http" not in csp

    # Every example operation is a tab; no tab carries an Authorization header of its own.
    page.locator(QUERY_EDITOR).wait_for()
    tabs = page.locator(".graphiql-tab").all_inner_texts()
    expected = sorted(path.stem for path in OPERATIONS.glob("*.graphql"))
    assert sorted(t.strip() for t in tabs) == expected

    # Without a token, confid's own answer says what to do (not "malformed").
    status = page.locator("#token-status")
    expect(status).to_contain_text("No token yet")
    answer = page.locator(".graphiql-response")
    answer.filter(has_text="paste your token").wait_for()
    assert "alformed" not in page_text(page, ".graphiql-response")
    visit.shot("graphiql-1-no-token")

    # Paste the token once, in the bar.
    page.get_by_label("Bearer token").fill(TOKENS["admin"])
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Every tab uses this token: admin-1 (ADMIN)")

    # Two different example tabs run as they are.
    viewer = run_tab(page, "Viewer", '"role": "ADMIN"')
    assert '"name": "admin-1"' in viewer and "errors" not in viewer
    visit.shot("graphiql-2-viewer")
    users = run_tab(page, "ListUsers", '"users"')
    assert '"edges"' in users and "errors" not in users
    visit.shot("graphiql-3-list-users")

    # The explorer and the docs load the schema with the same token.
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    page.locator(".graphiql-plugin [data-field-name='checkConferenceId']").wait_for()
    visit.shot("graphiql-4-explorer", docs="graphiql")
    page.get_by_role("button", name="Show Documentation Explorer").click()
    page.locator(".graphiql-plugin").get_by_text("Query", exact=True).first.wait_for()

    # The token is in this tab's session storage only.
    assert page.evaluate("() => sessionStorage.getItem('confid.token')") == TOKENS["admin"]
    assert TOKENS["admin"] not in page.evaluate("() => JSON.stringify({...localStorage})")
    assert TOKENS["admin"] not in page.url
    assert visit.foreign_requests() == []
    assert any(url.startswith(f"{server.url}/static/build/") for url in visit.requests)
    assert visit.problems == []


def test_a_token_from_the_admin_page_or_from_one_tabs_headers_serves_every_tab(
    visit: Visit, server: Server, graphiql_build: None
) -> None:
    page = visit.page
    # Signed in on the admin page, then GraphiQL from its link, in the same browser tab.
    sign_in(visit, "helpdesk")
    page.get_by_role("link", name="GraphiQL explorer").click()
    page.wait_for_url(f"{server.url}/graphql")
    status = page.locator("#token-status")
    expect(status).to_contain_text("helpdesk-1 (HELPDESK)")
    assert '"name": "helpdesk-1"' in run_tab(page, "Viewer", "HELPDESK")

    # Forgotten, then pasted into one tab's Headers pane: every other tab uses it too.
    page.get_by_role("button", name="Forget token").click()
    expect(status).to_contain_text("No token yet")
    page.locator(".graphiql-tab-button", has_text=re.compile(r"^\s*ListUsers\s*$")).click()
    page.get_by_role("button", name="Headers", exact=True).click()
    page.locator(HEADERS_EDITOR).click()
    page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {TOKENS['auditor']}"}))
    page.wait_for_function(  # GraphiQL has taken the edit into the tab's state
        "token => (sessionStorage.getItem('graphiql:tabState') || '').includes(token)",
        arg=TOKENS["auditor"],
    )
    assert "errors" not in run_tab(page, "ListUsers", '"edges"')
    expect(status).to_contain_text("auditor-1 (AUDITOR)")
    viewer = run_tab(page, "Viewer", "AUDITOR")
    assert '"name": "auditor-1"' in viewer
    visit.shot("graphiql-5-token-from-a-tab")


def test_graphiql_runs_a_subscription_over_the_websocket(
    visit: Visit, server: Server, graphiql_build: None
) -> None:
    page = visit.page
    page.goto(f"{server.url}/graphql")
    # The token pasted once in the bar serves the websocket too: it goes out as the
    # connection_init payload.
    page.get_by_label("Bearer token").fill(TOKENS["auditor"])
    page.keyboard.press("Enter")
    expect(page.locator("#token-status")).to_contain_text("auditor-1 (AUDITOR)")
    tab = re.compile(r"^\s*AuditEventAppended\s*$")
    page.locator(".graphiql-tab-button", has_text=tab).click()
    page.wait_for_function(  # GraphiQL has taken the tab's text and operation name
        "() => (sessionStorage.getItem('graphiql:query') || '')"
        ".includes('subscription AuditEventAppended')"
    )
    page.get_by_role("button", name=RUN).click()

    # The subscription runs, so an entry appended through the API shows up in the
    # response pane.
    for _ in range(100):  # the access log shows when the subscription has started
        log = server.gql("{ auditAccessLog(first: 5) { edges { node { what } } } }")
        if any(e["node"]["what"] == "auditEventAppended" for e in log["auditAccessLog"]["edges"]):
            break
        page.wait_for_timeout(100)
    user = server.gql(
        "{ users(first: 30) { edges { node { id audioConferencing { conferenceId } } } } }"
    )
    target = [e["node"] for e in user["users"]["edges"] if e["node"]["audioConferencing"]][-2]
    reset = server.gql(
        "mutation($i: ResetConferenceIdInput!) { resetConferenceId(input: $i) "
        "{ auditEvent { sequence } } }",
        {"i": {"userId": target["id"], "reason": "seen in GraphiQL"}},
    )
    sequence = reset["resetConferenceId"]["auditEvent"]["sequence"]
    page.locator(".graphiql-response").filter(has_text="seen in GraphiQL").wait_for()
    assert f'"sequence": {sequence}' in page_text(page, ".graphiql-response")
    visit.shot("graphiql-4-subscription")
    assert visit.foreign_requests() == []
    assert visit.problems == []

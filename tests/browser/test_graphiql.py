"""GraphiQL in a real browser: served from confid's origin only, and it runs a query."""

from __future__ import annotations

import re

from tests.browser.conftest import Server, Visit
from tests.conftest import OPERATIONS, TOKENS

HEADERS_EDITOR = ".monaco-editor[data-uri$='headers.json']"


def _text(visit: Visit, selector: str) -> str:
    return " ".join(visit.page.locator(selector).inner_text().replace("\xa0", " ").split())


def test_graphiql_loads_from_the_origin_and_runs_a_query(
    visit: Visit, server: Server, graphiql_build: None
) -> None:
    page = visit.page
    response = page.goto(f"{server.url}/graphql")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "http" not in csp

    # Every example operation is a tab, and the header editor waits for a token.
    page.locator(HEADERS_EDITOR).wait_for()
    tabs = page.locator(".graphiql-tab").all_inner_texts()
    expected = sorted(path.stem for path in OPERATIONS.glob("*.graphql"))
    assert sorted(t.strip() for t in tabs) == expected
    assert '"Authorization": "Bearer "' in _text(visit, HEADERS_EDITOR)
    visit.shot("graphiql-1-loaded")

    # Paste a token after "Bearer " and run the first tab (Viewer).
    page.locator(HEADERS_EDITOR).click()
    for key in ("Control+Home", "ArrowDown", "End", "ArrowLeft"):
        page.keyboard.press(key)
    page.keyboard.type(TOKENS["admin"])
    page.get_by_role("button", name=re.compile("Execute query")).click()
    result = page.locator(".graphiql-response")
    result.filter(has_text="ADMIN").wait_for()
    assert '"name": "admin-1"' in _text(visit, ".graphiql-response")
    visit.shot("graphiql-2-result")

    # With the token, introspection works: the explorer plugin lists the schema's fields.
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    page.locator(".graphiql-plugin [data-field-name='checkConferenceId']").wait_for()
    visit.shot("graphiql-3-explorer", docs="graphiql")

    assert visit.foreign_requests() == []
    assert any(url.startswith(f"{server.url}/static/build/") for url in visit.requests)
    assert visit.problems == []


def test_graphiql_runs_a_subscription_over_the_websocket(
    visit: Visit, server: Server, graphiql_build: None
) -> None:
    page = visit.page
    page.goto(f"{server.url}/graphql")
    page.locator(".graphiql-tab", has_text="AuditEventAppended").click()
    page.locator(HEADERS_EDITOR).wait_for()
    page.locator(HEADERS_EDITOR).click()
    for key in ("Control+Home", "ArrowDown", "End", "ArrowLeft"):
        page.keyboard.press(key)
    page.keyboard.type(TOKENS["auditor"])
    page.get_by_role("button", name=re.compile("Execute query")).click()

    # The headers went out as the connection_init payload: the subscription runs, so an
    # entry appended through the API shows up in the response pane.
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
    assert f'"sequence": {sequence}' in _text(visit, ".graphiql-response")
    visit.shot("graphiql-4-subscription")
    assert visit.foreign_requests() == []
    assert visit.problems == []

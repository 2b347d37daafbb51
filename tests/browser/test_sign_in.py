"""Signing in with the identity provider in a real browser, end to end: headless Chromium,
the admin page and GraphiQL as confid serves them, and a real OpenID provider
(oidc-provider) on loopback. A person signs in on the admin page, resets an ID, and the
audit entry names them; the token is renewed silently and the page says when the sign-in
has ended; GraphiQL signs in through the same redirect URI and uses the person's token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.support.api import TOKENS, operation
from tests.support.browser import SCREENSHOTS, expect, run_tab
from tests.support.idp import Provider


@dataclass
class SignInVisit:
    """A browser context that may reach confid and the provider, and nothing else."""

    page: Any
    url: str
    idp: Provider
    graphql_tokens: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    @property
    def provider_host(self) -> str:
        return urlsplit(self.idp.issuer).netloc

    def shot(self, name: str, *, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    def login_at_provider(self, login: str) -> None:
        """The provider's own login and consent forms."""
        page = self.page
        page.wait_for_url(re.compile(re.escape(self.idp.issuer) + "/interaction/"))
        page.locator("input[name=login]").fill(login)
        page.locator("input[name=password]").fill("correct horse")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()  # consent

    def session(self) -> dict[str, str]:
        data: dict[str, str] = self.page.evaluate("() => ({...sessionStorage})")
        return data

    def stored_user(self) -> dict[str, Any]:
        (key,) = [k for k in self.session() if k.startswith("oidc.user:")]
        user: dict[str, Any] = json.loads(self.session()[key])
        return user


@pytest.fixture
def signing_in(browser: Any, deployment: tuple[Provider, str]) -> Iterator[SignInVisit]:
    idp, url = deployment
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    allowed = (url + "/", idp.issuer + "/")

    def route(route: Any) -> None:
        request_url = route.request.url
        if (request_url + "/").startswith(allowed) or request_url in (url, idp.issuer):
            route.continue_()
        else:  # the provider's login page links a web font: never fetched
            visit.elsewhere.append(request_url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(15_000)
    visit = SignInVisit(page=page, url=url, idp=idp)

    def on_request(request: Any) -> None:
        if request.url == f"{url}/graphql" and request.method == "POST":
            header = request.headers.get("authorization", "")
            visit.graphql_tokens.append(header.removeprefix("Bearer "))

    def on_console(message: Any) -> None:  # only confid's pages are held to this
        source = (message.location or {}).get("url", "")
        if message.type == "error" and page.url.startswith(url) and "401" not in message.text:
            visit.problems.append(f"console: {message.text} ({source})")

    context.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.problems.append(f"page error: {error}"))
    try:
        yield visit
    finally:
        context.close()


def idp_token_endpoint(visit: SignInVisit) -> str:
    return f"{visit.idp.issuer}/token"


def ask(url: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {TOKENS['auditor']}"},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def an_enabled_user(url: str) -> dict[str, Any]:
    edges = ask(url, operation("ListUsers"), {"first": 50, "search": None})["users"]["edges"]
    return next(e["node"] for e in edges if e["node"]["audioConferencing"])


def sign_in_on_the_admin_page(visit: SignInVisit, login: str = "alice") -> None:
    page = visit.page
    button = page.get_by_role("button", name=f"Sign in with {visit.provider_host}")
    expect(button).to_be_visible()
    button.click()
    visit.login_at_provider(login)
    page.wait_for_url(f"{visit.url}/")


def test_a_person_signs_in_on_the_admin_page_and_the_trail_names_them(
    signing_in: SignInVisit,
) -> None:
    visit, page, url, idp = signing_in, signing_in.page, signing_in.url, signing_in.idp
    response = page.goto(f"{url}/")
    assert response is not None
    csp = dict(
        p.strip().split(" ", 1) for p in response.headers["content-security-policy"].split(";")
    )
    assert csp["connect-src"] == f"'self' {idp.issuer}"  # the issuer's origin, nothing else
    assert csp["frame-src"] == "'none'" and csp["script-src"] == "'self'"
    expect(page.get_by_label("Bearer token")).to_be_visible()  # pasting stays possible
    visit.shot("signin-1-admin-page")

    sign_in_on_the_admin_page(visit)
    expect(page.locator("#viewer-role")).to_have_text("Admin")
    expect(page.locator("#who")).to_contain_text("alice@example.test")
    assert page.url == f"{url}/"  # the code and state left the address bar
    # Tokens are in this tab's session storage only.
    assert page.evaluate("() => localStorage.length") == 0
    assert "confid.token" not in visit.session()
    token = visit.stored_user()["access_token"]
    assert visit.graphql_tokens and set(visit.graphql_tokens) == {token}

    # Reset a user's ID as the person.
    user = an_enabled_user(url)
    page.get_by_label("Search by name or email").fill(user["email"])
    expect(page.locator(".user-item")).to_have_count(1)
    page.locator(f".user-item[data-user-id='{user['id']}']").click()
    page.get_by_role("button", name="Reset conference ID…").click()
    dialog = page.get_by_role("dialog", name="Reset conference ID?")
    dialog.get_by_label("Reason").fill("Signed in with the provider")
    dialog.get_by_role("button", name="Reset conference ID").click()
    expect(page.locator("#new-conference-id")).to_have_text(re.compile(r"^\d{7}$"))
    entry = page.locator("#history-list li[data-action='RESET'][data-outcome='SUCCESS']")
    expect(entry).to_contain_text("Alice Admin (alice@example.test, Admin)")
    visit.shot("signin-2-reset-by-a-person", full_page=True)

    # The audit entry names the person, and the trail verifies.
    events = ask(url, operation("ListAuditEvents"), {"actorSubject": "alice", "first": 5})
    (event,) = [e["node"] for e in events["auditEvents"]["edges"]]
    assert (event["action"], event["reason"]) == ("RESET", "Signed in with the provider")
    assert event["actor"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }
    assert ask(url, operation("VerifyAuditTrail"))["verifyAuditTrail"]["ok"] is True

    # Signing out forgets the tokens; the page offers both ways in again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name=f"Sign in with {visit.provider_host}")).to_be_visible()
    assert not [k for k in visit.session() if k.startswith("oidc.user:")]
    assert visit.problems == []


def test_a_sign_in_cancelled_at_the_provider_is_explained(signing_in: SignInVisit) -> None:
    visit, page, url = signing_in, signing_in.page, signing_in.url
    page.goto(f"{url}/")
    page.get_by_role("button", name=f"Sign in with {visit.provider_host}").click()
    page.wait_for_url(re.compile(re.escape(visit.idp.issuer) + "/interaction/"))
    page.get_by_role("link", name="[ Cancel ]").click()  # the provider answers access_denied
    page.wait_for_url(f"{url}/")  # back, with the provider's error removed from the address
    error = page.locator("#provider-error")
    expect(error).to_contain_text("The sign-in did not complete")
    expect(error).to_contain_text("access_denied")
    expect(page.locator("#workspace")).to_be_hidden()
    assert not [k for k in visit.session() if k.startswith("oidc.user:")]
    assert visit.problems == []


def test_a_person_without_a_confid_role_is_refused_with_the_servers_reason(
    signing_in: SignInVisit,
) -> None:
    visit, page, url = signing_in, signing_in.page, signing_in.url
    page.goto(f"{url}/")
    sign_in_on_the_admin_page(visit, "stranger")  # roles: ["guest"]
    error = page.locator("#sign-in-error")
    expect(error).to_contain_text("grants no confid role")
    expect(error).to_contain_text("FORBIDDEN")
    expect(page.locator("#workspace")).to_be_hidden()
    assert not [k for k in visit.session() if k.startswith("oidc.user:")]  # not kept
    # Chromium logs confid's 403 (the page showed its message): nothing else went wrong.
    assert [p for p in visit.problems if f"403 (Forbidden) ({url}/graphql)" not in p] == []


def test_the_token_is_renewed_silently_and_an_ended_sign_in_says_so(
    signing_in: SignInVisit,
) -> None:
    """The page's clock is moved, not waited for: near expiry the page renews with the
    refresh token; without one (a provider that issues none) the sign-in ends visibly."""
    visit, page, url = signing_in, signing_in.page, signing_in.url
    page.clock.install()
    page.goto(f"{url}/")
    sign_in_on_the_admin_page(visit, "hugo")
    expect(page.locator("#viewer-role")).to_have_text("Helpdesk")
    first = visit.stored_user()
    assert first["refresh_token"]

    page.clock.fast_forward("04:30")  # the access token lasts 5 min; renewal starts 1 min before
    page.wait_for_function(
        "(old) => Object.entries(sessionStorage).some(([k, v]) =>"
        " k.startsWith('oidc.user:') && JSON.parse(v).access_token !== old)",
        arg=first["access_token"],
        polling=100,
    )
    renewed = visit.stored_user()["access_token"]
    assert renewed != first["access_token"]
    with page.expect_request(f"{url}/graphql") as searched:  # the next request
        page.get_by_label("Search by name or email").fill("a")
        page.clock.run_for(1000)  # the search waits for typing to pause (a timer)
    assert searched.value.headers["authorization"] == f"Bearer {renewed}"

    # A renewal the provider refuses (here: a refresh token it does not know) ends the
    # sign-in, and the page says so.
    page.evaluate(
        "() => { for (const [k, v] of Object.entries(sessionStorage)) {"
        " if (k.startsWith('oidc.user:')) { const u = JSON.parse(v);"
        " u.refresh_token = 'revoked-at-the-provider';"
        " sessionStorage.setItem(k, JSON.stringify(u)); } } }"
    )
    page.clock.fast_forward("04:30")
    error = page.locator("#sign-in-error")
    expect(error).to_contain_text("Signed out")
    expect(error).to_contain_text(f"{visit.provider_host} did not renew your sign-in")
    expect(error).to_contain_text("invalid_grant")
    expect(page.locator("#workspace")).to_be_hidden()
    assert not [k for k in visit.session() if k.startswith("oidc.user:")]
    visit.shot("signin-3-ended")
    # The one complaint: Chromium logging the provider's refusal (HTTP 400 from its token
    # endpoint), which the page turned into the message above.
    assert [p for p in visit.problems if "400 (Bad Request)" not in p] == [], visit.problems
    assert len(visit.problems) == 1 and idp_token_endpoint(visit) in visit.problems[0]


def test_graphiql_signs_in_through_the_admin_page_and_uses_the_persons_token(
    signing_in: SignInVisit,
) -> None:
    visit, page, url, idp = signing_in, signing_in.page, signing_in.url, signing_in.idp
    response = page.goto(f"{url}/graphql")
    assert response is not None
    assert f"connect-src 'self' {idp.issuer}" in response.headers["content-security-policy"]
    page.get_by_role("button", name=f"Sign in with {visit.provider_host}").click()
    visit.login_at_provider("audrey")
    page.wait_for_url(f"{url}/graphql")  # back where the sign-in started
    status = page.locator("#token-status")
    expect(status).to_contain_text(f"Signed in with {visit.provider_host} as audrey@example.test")
    expect(status).to_contain_text("AUDITOR")

    viewer = run_tab(page, "Viewer", "audrey@example.test")
    assert idp.issuer in viewer and '"role": "AUDITOR"' in viewer
    assert '"ok": true' in run_tab(page, "VerifyAuditTrail", '"ok"')
    visit.shot("signin-4-graphiql-signed-in")
    token = visit.stored_user()["access_token"]
    assert visit.graphql_tokens[-1] == token
    assert page.evaluate("() => localStorage.length") == 0
    assert visit.problems == []

"""Driving headless Chromium (Playwright) against a served confid: the server, one visit
(a browser context recording every request and console complaint), signing in."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import ROOT, TOKENS

# Debian's chromium (Playwright's own browser download cannot work here); CHROMIUM overrides.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


SCREENSHOTS = ROOT / "test-output" / "screenshots"


DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


SERVER_LOG = ROOT / "test-output" / "browser-server.log"


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where .ci/run installs what is missing."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    """A confid process serving the embedded demo on a loopback port."""

    url: str

    def gql(self, query: str, variables: dict[str, Any] | None = None, role: str = "admin") -> Any:
        """Ask the API directly (to check what the pages claim)."""
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {TOKENS[role]}",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert "errors" not in body, body
        return body["data"]


@dataclass
class Visit:
    """One browser context on confid, recording every request and console complaint."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def shot(self, name: str, *, docs: str | None = None, full_page: bool = False) -> Path:
        """Save a screenshot under test-output/screenshots.

        With `docs` and DOCS_SCREENSHOTS=1 set, also as docs/screenshots/<docs>.png,
        the pictures the README shows.
        """
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        if docs and os.environ.get("DOCS_SCREENSHOTS"):
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{docs}.png")
        return path

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but confid's origin (inline data: URLs fetch nothing)."""
        prefix = self.origin + "/"
        return [
            url
            for url in self.requests
            if not (url + "/").startswith(prefix) and not url.startswith("data:")
        ]


def open_visit(browser: Any, server: Server, **context_options: Any) -> Iterator[Visit]:
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 960}, **context_options}
    context = browser.new_context(**options)
    # Nothing may leave the origin: record every request, and refuse any that would.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.url) else route.abort()
        ),
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    visit = Visit(page=page, origin=server.url)
    context.on("request", lambda request: visit.requests.append(request.url))
    page.on("pageerror", lambda error: visit.problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            visit.problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "401" not in message.text
            else None
        ),
    )
    try:
        yield visit
    finally:
        context.close()


def expect(target: Any) -> Any:
    """Playwright's `expect`, imported late so a missing Playwright fails in `browser`."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(visit: Visit, role: str) -> None:
    page = visit.page
    page.goto(f"{visit.origin}/")
    page.get_by_label("Bearer token").fill(TOKENS[role])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#viewer-role")).to_have_text(role.capitalize())


RUN = re.compile("Execute query")


def page_text(page: Any, selector: str) -> str:
    text: str = page.locator(selector).inner_text()
    return " ".join(text.replace("\xa0", " ").split())


def run_tab(page: Any, name: str, expected: str) -> str:
    """Open the example tab `name`, run it, and wait for `expected` in the response."""
    tab = re.compile(f"^\\s*{name}\\s*$")
    if not page.locator(".graphiql-tab-active .graphiql-tab-button", has_text=tab).count():
        page.locator(".graphiql-tab-button", has_text=tab).click()
        # GraphiQL takes a tab's operation name from its editor 100 ms after the text
        # changes (and stores the text then): running earlier sends the previous tab's name.
        page.wait_for_function(
            "name => [`query ${name}`, `mutation ${name}`, `subscription ${name}`]"
            ".some((start) => (sessionStorage.getItem('graphiql:query') || '').includes(start))",
            arg=name,
        )
    page.get_by_role("button", name=RUN).click()
    response = page.locator(".graphiql-response")
    response.filter(has_text=expected).wait_for()
    return page_text(page, ".graphiql-response")

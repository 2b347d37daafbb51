"""The provider's own Authorization Code + PKCE login in headless Chromium, driven directly
with confid's redirect URI (`/`): the harness the page tests in test_sign_in.py build on.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx

from tests.support.api import operation
from tests.support.browser import SCREENSHOTS
from tests.support.idp import API, CLIENT_ID, SCOPE, Provider


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_headless_chromium_signs_in_at_the_provider(
    browser: Any, deployment: tuple[Provider, str]
) -> None:
    idp, url = deployment
    config = httpx.get(f"{url}/auth/config", timeout=10).json()["oidc"]
    assert config == {"issuer": idp.issuer, "clientId": CLIENT_ID, "scopes": SCOPE}
    context = browser.new_context()
    allowed = (url, idp.issuer)  # nothing else may be reached (the login page links a font)
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort(),
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    verifier = b64url(secrets.token_bytes(32))
    state = b64url(secrets.token_bytes(12))
    query = {
        "client_id": config["clientId"],
        "response_type": "code",
        "redirect_uri": f"{url}/",
        "scope": config["scopes"],
        "state": state,
        "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
        "resource": API,
    }
    try:
        page.goto(f"{config['issuer']}/auth?{urlencode(query)}")
        page.locator("input[name=login]").fill("alice")
        page.locator("input[name=password]").fill("correct horse")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / "oidc-provider-login.png"))
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()  # consent
        page.wait_for_url(re.compile(re.escape(url) + r"/\?code="))
        answer = parse_qs(urlsplit(page.url).query)
    finally:
        context.close()
    assert answer["state"] == [state]
    # The code exchange, as the page's script will make it: from confid's origin (CORS).
    token = httpx.post(
        f"{idp.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": f"{url}/",
            "client_id": CLIENT_ID,
            "code_verifier": verifier,
        },
        headers={"Origin": url},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    assert token.headers["access-control-allow-origin"] == url
    access = token.json()["access_token"]
    response = httpx.post(
        f"{url}/graphql",
        json={"query": operation("Viewer")},
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert response.json()["data"]["viewer"] == {
        "name": "alice@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "alice",
        "displayName": "Alice Admin",
    }

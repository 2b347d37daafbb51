"""A real OpenID provider for the tests: panva's `oidc-provider` (npm) run by Node on loopback.

`scripts/test` installs it into tests/support/idp/node_modules from the pinned lockfile.
Tokens are obtained the way a person's browser obtains them: Authorization Code with PKCE,
through the provider's own login and consent forms, then the token endpoint. Attack tokens
are made by the tests themselves, as an attacker would, with PyJWT and `hmac`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.mjs"
INSTALLED = HERE / "node_modules" / "oidc-provider" / "package.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

API = "https://confid.test/api"  # the resource indicator whose tokens confid accepts
API_ES256 = "https://confid.test/api/es256"
API_EDDSA = "https://confid.test/api/eddsa"
OTHER_API = "https://other.test/api"  # a resource with another audience
AUDIENCE = "confid-api"
CLIENT_ID = "confid-admin"
CALLBACK = "http://127.0.0.1:9/oidc/callback"  # never fetched: the code is read from it
SCOPE = "openid profile email confid"
GROUP_HELPDESK = "7d0c8e52-3f5b-4d4e-9a1e-2b5f1f6a9c01"  # an Entra-style group object id

# Who can sign in, and what their access tokens say.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "claims": {"name": "Alice Admin", "email": "alice@example.test"},
        "token_claims": {
            "roles": ["admin"],
            "preferred_username": "alice@example.test",
            "name": "Alice Admin",
        },
    },
    "hugo": {
        "claims": {"name": "Hugo Helpdesk"},
        "token_claims": {"roles": ["helpdesk"], "preferred_username": "hugo@example.test"},
    },
    "audrey": {
        "claims": {"name": "Audrey Auditor"},
        "token_claims": {"roles": ["auditor"], "preferred_username": "audrey@example.test"},
    },
    "erin": {  # an Entra app role, mapped with CONFID_OIDC_ROLE_MAP
        "claims": {"name": "Erin Entra"},
        "token_claims": {"roles": ["ConfId.Admin"], "preferred_username": "erin@example.test"},
    },
    "grace": {  # a group id in `groups`, mapped with CONFID_OIDC_ROLES_CLAIM=groups
        "claims": {"name": "Grace Groups"},
        "token_claims": {
            "groups": ["0a1b2c3d-0000-4000-8000-000000000000", GROUP_HELPDESK],
            "preferred_username": "grace@example.test",
        },
    },
    "kim": {  # Keycloak-style client roles, nested; another client's roles beside them
        "claims": {"name": "Kim Keycloak"},
        "token_claims": {
            "resource_access": {"confid": {"roles": ["auditor"]}, "account": {"roles": ["admin"]}},
            "preferred_username": "kim",
            "email": "kim@example.test",
        },
    },
    "stranger": {  # signed in, but with a role confid does not know
        "claims": {"name": "Stranger"},
        "token_claims": {"roles": ["guest"], "preferred_username": "stranger@example.test"},
    },
    "nobody": {  # signed in, no role claim at all
        "claims": {"name": "Nobody"},
        "token_claims": {"preferred_username": "nobody@example.test"},
    },
}


def unavailable(reason: str) -> None:
    """Skip on a developer machine without Node; fail in CI, where scripts/test installs it."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the OpenID provider tests must run)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """One of the provider's key pairs (tests keep the private half, as an insider would)."""

    kid: str
    alg: str
    private: Any

    @classmethod
    def generate(cls, alg: str, kid: str | None = None) -> SigningKey:
        private: Any
        if alg == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        return cls(kid or f"{alg.lower()}-{secrets.token_hex(4)}", alg, private)

    def jwk(self, *, private: bool) -> dict[str, Any]:
        key = self.private if private else self.private.public_key()
        convert: Any = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}
        data: dict[str, Any] = convert[self.alg].to_jwk(key, as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}


def default_keys() -> list[SigningKey]:
    return [SigningKey.generate(alg) for alg in ("RS256", "ES256", "EdDSA")]


def default_resources(keys: list[SigningKey]) -> dict[str, dict[str, Any]]:
    """Each resource signs with the first key of its algorithm (the current key)."""
    first = {}
    for key in keys:
        first.setdefault(key.alg, key)
    return {
        API: {"audience": AUDIENCE, "alg": "RS256", "kid": first["RS256"].kid, "scope": "confid"},
        API_ES256: {"audience": AUDIENCE, "alg": "ES256", "scope": "confid"},
        API_EDDSA: {"audience": AUDIENCE, "alg": "EdDSA", "scope": "confid"},
        OTHER_API: {"audience": "other-api", "alg": "RS256", "scope": "confid"},
    }


class PortTaken(RuntimeError):
    """Another process bound the provider's port between free_port() and the provider."""


@dataclass
class Provider:
    """One running oidc-provider process; `restart` redeploys it with other keys."""

    folder: Path
    port: int = field(default_factory=free_port)
    keys: list[SigningKey] = field(default_factory=default_keys)
    redirect_uris: list[str] = field(default_factory=lambda: [CALLBACK])
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def key(self, alg: str = "RS256") -> SigningKey:
        """The current signing key for `alg`."""
        return next(k for k in self.keys if k.alg == alg)

    def config(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks": {"keys": [k.jwk(private=True) for k in self.keys]},
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "token_endpoint_auth_method": "none",
                    "redirect_uris": self.redirect_uris,
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "post_logout_redirect_uris": self.redirect_uris,
                }
            ],
            "accounts": ACCOUNTS,
            "resources": default_resources(self.keys),
        }

    def start(self, *, same_port: bool = False) -> None:
        """Start the provider; a port taken meanwhile (free_port cannot reserve it) is retried
        on another one, unless the issuer must stay the same (`restart`)."""
        for _ in range(5):
            try:
                self._start_once()
                return
            except PortTaken:
                if same_port:
                    raise
                self.port = free_port()
        self._start_once()

    def _start_once(self) -> None:
        node = shutil.which("node")
        if node is None:
            unavailable("Node.js is not installed: the OpenID provider tests need it")
        if not INSTALLED.is_file():
            unavailable(
                "oidc-provider is not installed: run scripts/test (npm ci in tests/support/idp)"
            )
        path = self.folder / f"idp-{self.port}.json"
        path.write_text(json.dumps(self.config()), encoding="utf-8")
        log = (self.folder / f"idp-{self.port}.log").open("ab")
        assert node is not None
        self.process = subprocess.Popen(
            [node, str(SERVER), str(path)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        log.close()
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()  # blocks until `ready` or exit
        if not line.startswith("ready "):
            self.stop()
            output = (self.folder / f"idp-{self.port}.log").read_text(errors="replace")
            failure = PortTaken if "EADDRINUSE" in output else RuntimeError
            raise failure(f"the OpenID provider did not start: {line!r}\n" + output[-3000:])

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self, keys: list[SigningKey]) -> None:
        """Redeploy on the same issuer with another key set (a key rotation at the IdP)."""
        self.stop()
        self.keys = keys
        deadline = time.monotonic() + 10
        while True:  # the port may linger for a moment after the old process exits
            try:
                self.start(same_port=True)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise

    def stats(self) -> dict[str, int]:
        """How often discovery, the JWKS and the token endpoint were asked."""
        counts: dict[str, int] = httpx.get(f"{self.issuer}/_harness/stats", timeout=5).json()
        return counts

    def sign_in(self, login: str, *, resource: str = API, scope: str = SCOPE) -> dict[str, Any]:
        """Authorization Code + PKCE through the login and consent forms; the token response."""
        verifier = b64url(secrets.token_bytes(32))
        challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        state = b64url(secrets.token_bytes(12))
        redirect = self.redirect_uris[0]
        with httpx.Client(base_url=self.issuer, follow_redirects=False, timeout=10) as http:
            response = http.get(
                "/auth",
                params={
                    "client_id": CLIENT_ID,
                    "response_type": "code",
                    "redirect_uri": redirect,
                    "scope": scope,
                    "state": state,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                    "resource": resource,
                },
            )
            code = None
            for _ in range(12):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if location.startswith(redirect):
                        query = parse_qs(urlsplit(location).query)
                        assert query.get("state") == [state], location
                        assert "code" in query, f"the provider refused: {location}"
                        code = query["code"][0]
                        break
                    response = http.get(location)
                elif response.status_code == 200 and "<form" in response.text:
                    action, prompt = _form(response.text)
                    form = {"prompt": prompt}
                    if prompt == "login":
                        form |= {"login": login, "password": "any password will do"}
                    response = http.post(urljoin(str(response.url), action), data=form)
                else:
                    raise AssertionError(
                        f"unexpected answer {response.status_code}: {response.text}"
                    )
            assert code is not None, "the sign-in did not reach the redirect URI"
            token = http.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect,
                    "client_id": CLIENT_ID,
                    "code_verifier": verifier,
                    "resource": resource,
                },
            )
            assert token.status_code == 200, token.text
            result: dict[str, Any] = token.json()
            return result

    def access_token(self, login: str, *, resource: str = API) -> str:
        token: str = self.sign_in(login, resource=resource)["access_token"]
        return token


def _form(html: str) -> tuple[str, str]:
    """The action of the provider's form and the prompt it answers (login or consent)."""
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    prompt = re.search(r'name="prompt" value="([^"]+)"', html)
    assert action and prompt, html
    return unescape(action.group(1)), prompt.group(1)


@contextmanager
def running_provider(folder: Path, **options: Any) -> Iterator[Provider]:
    provider = Provider(folder, **options)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()

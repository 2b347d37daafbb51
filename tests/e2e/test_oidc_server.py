"""confid under uvicorn, configured for OpenID Connect through the environment, against the
real provider: the settings, the start-up key fetch and the routes as deployed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.api import TOKENS, operation
from tests.support.idp import AUDIENCE, CLIENT_ID, Provider, running_provider
from tests.support.served import running_confid


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, str]]:
    folder = tmp_path_factory.mktemp("oidc-server")
    with (
        running_provider(folder) as idp,
        running_confid(
            folder,
            CONFID_DEMO_USERS="6",
            CONFID_OIDC_ISSUER=idp.issuer,
            CONFID_OIDC_AUDIENCE=f"{AUDIENCE},another-audience",
            CONFID_OIDC_CLIENT_ID=CLIENT_ID,
            CONFID_OIDC_SCOPES="openid profile confid",
            CONFID_OIDC_ROLE_MAP="ConfId.Admin=admin",
        ) as url,
    ):
        yield idp, url


def ask(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code, response.json()


def test_a_signed_in_person_is_the_actor(deployed: tuple[Provider, str]) -> None:
    idp, url = deployed
    token = idp.access_token("erin")  # roles: ["ConfId.Admin"]
    for _ in range(5):
        status, body = ask(url, token, operation("Viewer"))
        assert status == 200, body
    assert body["data"]["viewer"]["role"] == "ADMIN"
    assert body["data"]["viewer"]["subject"] == "erin"
    users = ask(url, token, operation("ListUsers"), {"first": 10})[1]["data"]["users"]["edges"]
    user = next(e["node"] for e in users if e["node"]["audioConferencing"])
    status, body = ask(
        url, token, operation("ResetConferenceId"), {"input": {"userId": user["id"]}}
    )
    assert body["data"]["resetConferenceId"]["auditEvent"]["outcome"] == "SUCCESS", body
    events = ask(url, TOKENS["auditor"], operation("ListAuditEvents"), {"first": 1})[1]
    assert events["data"]["auditEvents"]["edges"][0]["node"]["actor"] == {
        "name": "erin@example.test",
        "role": "ADMIN",
        "issuer": idp.issuer,
        "subject": "erin",
        "displayName": None,
    }
    # Keys were fetched once (at start-up or by the first request), not per request.
    stats = idp.stats()
    assert (stats["discovery"], stats["jwks"]) == (1, 1)


def test_static_tokens_and_the_sign_in_config(deployed: tuple[Provider, str]) -> None:
    idp, url = deployed
    status, body = ask(url, TOKENS["helpdesk"], operation("Viewer"))
    assert status == 200 and body["data"]["viewer"]["name"] == "helpdesk-1"
    config = httpx.get(f"{url}/auth/config", timeout=10).json()
    assert config["oidc"] == {
        "issuer": idp.issuer,
        "clientId": CLIENT_ID,
        "scopes": "openid profile confid",
    }


def test_a_bad_token_gets_the_rfc_6750_challenge(deployed: tuple[Provider, str]) -> None:
    _, url = deployed
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="confid", error="invalid_token"'


def test_startup_refuses_an_unusable_jwks_file(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    with (
        pytest.raises(RuntimeError, match="holds no RS256, ES256 or EdDSA signing key"),
        running_confid(
            tmp_path,
            CONFID_OIDC_ISSUER="https://idp.example.test",
            CONFID_OIDC_AUDIENCE="confid",
            CONFID_OIDC_JWKS_FILE=str(path),
        ),
    ):
        pass

"""OpenID Connect bearer tokens against a real provider (oidc-provider, on loopback).

Valid tokens come from the provider's own Authorization Code + PKCE flow. Attack tokens
are made here, as an attacker (or an insider holding a key) would make them. Every refused
request is checked for its HTTP status, `extensions.code`, RFC 6750 challenge, and for
having written nothing: the audit trail keeps its length and the target keeps its ID.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from app.settings import Settings
from tests.support.api import Api, operation
from tests.support.idp import (
    API_EDDSA,
    API_ES256,
    CLIENT_ID,
    GROUP_HELPDESK,
    OTHER_API,
    Provider,
    SigningKey,
    running_provider,
)
from tests.support.oidc import LEEWAY, Clock, oidc_settings, serving

# --- helpers ----------------------------------------------------------------------------


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(claims: dict[str, Any], key: SigningKey, **header: Any) -> str:
    """A token signed with `key` (the provider's own, or the attacker's)."""
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, key.private, algorithm=key.alg, headers=headers)


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The classic key-confusion attack: HMAC keyed with the issuer's public key (PEM)."""
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def unsigned(claims: dict[str, Any], kid: str) -> str:
    head = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}."


async def viewer(api: Api, token: str) -> httpx.Response:
    return await api.post({"query": operation("Viewer")}, token=token)


async def trail_length(api: Api) -> int:
    data = await api.data(operation("VerifyAuditTrail"), token="auditor")
    assert data["verifyAuditTrail"]["ok"], data
    return int(data["verifyAuditTrail"]["checked"])


async def reset(api: Api, token: str, user_id: str) -> httpx.Response:
    variables = {"input": {"userId": user_id, "reason": "oidc test"}}
    return await api.post(
        {"query": operation("ResetConferenceId"), "variables": variables}, token=token
    )


async def assert_refused(
    api: Api, token: str, status: int, code: str, challenge: str | None = None
) -> str:
    """The mutation is refused with `status`/`code` and nothing is written; the message."""
    user = await api.enabled_user()
    before = await trail_length(api)
    response = await reset(api, token, user["id"])
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code, body
    if challenge is not None:
        assert response.headers["www-authenticate"] == challenge
    assert await trail_length(api) == before, "a refused token wrote to the audit trail"
    again = await api.data(operation("GetUser"), {"id": user["id"]})
    assert again["user"]["audioConferencing"] == user["audioConferencing"]
    message: str = error["message"]
    return message


INVALID = 'Bearer realm="confid", error="invalid_token"'
NO_ROLE = 'Bearer realm="confid", error="insufficient_scope"'


# --- valid tokens -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "role", "may_reset"),
    [("alice", "ADMIN", True), ("hugo", "HELPDESK", True), ("audrey", "AUDITOR", False)],
)
async def test_a_token_per_role(
    oidc_api: Api, idp: Provider, tokens: dict[str, str], login: str, role: str, may_reset: bool
) -> None:
    token = tokens[login]
    response = await viewer(oidc_api, token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"] == {
        "name": f"{login}@example.test",
        "role": role,
        "issuer": idp.issuer,
        "subject": login,
        "displayName": "Alice Admin" if login == "alice" else None,
    }
    user = await oidc_api.enabled_user()
    before = await trail_length(oidc_api)
    result = (await reset(oidc_api, token, user["id"])).json()
    if may_reset:
        payload = result["data"]["resetConferenceId"]
        assert payload["userErrors"] == [] and payload["auditEvent"]["outcome"] == "SUCCESS"
        events = await oidc_api.data(operation("ListAuditEvents"), {"first": 1})
        actor = events["auditEvents"]["edges"][0]["node"]["actor"]
        assert actor == {
            "name": f"{login}@example.test",
            "role": role,
            "issuer": idp.issuer,
            "subject": login,
            "displayName": "Alice Admin" if login == "alice" else None,
        }
        assert await trail_length(oidc_api) == before + 1
    else:  # a valid auditor: the role check refuses inside GraphQL, as for static tokens
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await trail_length(oidc_api) == before


@pytest.mark.parametrize("resource", [API_ES256, API_EDDSA])
async def test_es256_and_eddsa_tokens_are_accepted(
    oidc_api: Api, idp: Provider, resource: str
) -> None:
    token = idp.access_token("hugo", resource=resource)
    assert jwt.get_unverified_header(token)["alg"] in {"ES256", "EdDSA"}
    response = await viewer(oidc_api, token)
    assert response.json()["data"]["viewer"]["role"] == "HELPDESK", response.text


async def test_an_app_role_is_mapped(oidc_api: Api, tokens: dict[str, str]) -> None:
    response = await viewer(oidc_api, tokens["erin"])  # roles: ["ConfId.Admin"]
    assert response.json()["data"]["viewer"]["role"] == "ADMIN", response.text


async def test_a_group_claim_is_mapped(
    settings: Settings, raw_database: Any, idp: Provider, clock: Clock, tokens: dict[str, str]
) -> None:
    configured = oidc_settings(
        settings,
        idp,
        oidc_roles_claim="groups",
        oidc_role_map=((GROUP_HELPDESK, "helpdesk"),),
    )
    async with serving(configured, raw_database, clock) as api:
        response = await viewer(api, tokens["grace"])
        assert response.json()["data"]["viewer"]["role"] == "HELPDESK", response.text
        user = await api.enabled_user()
        payload = (await reset(api, tokens["grace"], user["id"])).json()["data"]
        assert payload["resetConferenceId"]["auditEvent"]["outcome"] == "SUCCESS"
        # With `groups` as the roles claim, a `roles` claim no longer counts.
        await assert_refused(api, tokens["alice"], 403, "FORBIDDEN", NO_ROLE)


async def test_a_nested_roles_claim_and_a_chosen_username_claim(
    settings: Settings, raw_database: Any, idp: Provider, clock: Clock, tokens: dict[str, str]
) -> None:
    configured = oidc_settings(
        settings,
        idp,
        oidc_roles_claim="resource_access.confid.roles",
        oidc_username_claim="email",
    )
    async with serving(configured, raw_database, clock) as api:
        response = await viewer(api, tokens["kim"])
        viewer_data = response.json()["data"]["viewer"]
        assert (viewer_data["role"], viewer_data["name"]) == ("AUDITOR", "kim@example.test")
        await assert_refused(api, tokens["alice"], 403, "FORBIDDEN", NO_ROLE)


async def test_static_tokens_keep_working_beside_oidc(oidc_api: Api) -> None:
    data = await oidc_api.data(operation("Viewer"), token="admin")
    assert data["viewer"]["name"] == "admin-1" and data["viewer"]["issuer"] is None


async def test_the_audit_export_takes_oidc_tokens(oidc_api: Api, tokens: dict[str, str]) -> None:
    ok = await oidc_api.client.get(
        "/audit/export", headers={"Authorization": f"Bearer {tokens['audrey']}"}
    )
    assert ok.status_code == 200, ok.text
    refused = await oidc_api.client.get(
        "/audit/export", headers={"Authorization": f"Bearer {tokens['nobody']}"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_admin_page_learns_how_to_sign_in(oidc_api: Api, idp: Provider) -> None:
    response = await oidc_api.client.get("/auth/config")
    assert response.status_code == 200
    assert response.json() == {
        "oidc": {"issuer": idp.issuer, "clientId": CLIENT_ID, "scopes": "openid profile email"},
        "staticTokens": True,
    }


async def test_without_oidc_the_admin_page_is_told_so(api: Api) -> None:
    response = await api.client.get("/auth/config")
    assert response.json() == {"oidc": None, "staticTokens": True}


# --- attacks and mistakes: refused, nothing written -------------------------------------


async def test_expired(oidc_api: Api, tokens: dict[str, str], clock: Clock) -> None:
    exp = claims_of(tokens["alice"])["exp"]
    clock.offset = exp + LEEWAY - time.time() - 1  # within the leeway: still accepted
    assert (await viewer(oidc_api, tokens["alice"])).status_code == 200
    clock.offset = exp + LEEWAY - time.time() + 1
    message = await assert_refused(oidc_api, tokens["alice"], 401, "UNAUTHENTICATED", INVALID)
    assert "expired" in message


async def test_issued_in_the_future(oidc_api: Api, tokens: dict[str, str], clock: Clock) -> None:
    iat = claims_of(tokens["alice"])["iat"]
    clock.offset = iat - LEEWAY - time.time() - 5  # the server's clock is far behind
    message = await assert_refused(oidc_api, tokens["alice"], 401, "UNAUTHENTICATED", INVALID)
    assert "future" in message


async def test_not_before(oidc_api: Api, idp: Provider, tokens: dict[str, str]) -> None:
    claims = claims_of(tokens["alice"]) | {"nbf": int(time.time()) + 3600}
    token = forge(claims, idp.key("RS256"))
    message = await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)
    assert "not valid yet" in message


async def test_wrong_audience(oidc_api: Api, idp: Provider) -> None:
    token = idp.access_token("alice", resource=OTHER_API)  # a real token, for another API
    assert claims_of(token)["aud"] == "other-api"
    message = await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)
    assert "audience" in message


async def test_wrong_issuer_signed_with_the_right_key(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    claims = claims_of(tokens["alice"]) | {"iss": "https://evil.example"}
    message = await assert_refused(
        oidc_api, forge(claims, idp.key("RS256")), 401, "UNAUTHENTICATED", INVALID
    )
    assert "another issuer" in message


async def test_a_token_from_another_real_provider(
    oidc_api: Api, idp: Provider, tmp_path: Path
) -> None:
    before = idp.stats()["jwks"]
    with running_provider(tmp_path) as other:  # same audience and accounts, other issuer
        token = other.access_token("alice")
    message = await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)
    assert "another issuer" in message
    assert idp.stats()["jwks"] - before <= 1  # the first key load at most, never per token


async def test_unknown_kid_fetches_keys_at_most_once_per_interval(
    oidc_api: Api, idp: Provider, tokens: dict[str, str], clock: Clock
) -> None:
    assert (await viewer(oidc_api, tokens["alice"])).status_code == 200  # keys loaded
    before = idp.stats()
    claims = claims_of(tokens["alice"])
    message = await assert_refused(
        oidc_api, forge(claims, SigningKey.generate("RS256", "attacker-0")), 401,
        "UNAUTHENTICATED", INVALID,
    )  # fmt: skip
    assert "does not publish" in message
    for n in range(1, 30):
        forged = forge(claims, SigningKey.generate("ES256", f"attacker-{n}"))
        assert (await viewer(oidc_api, forged)).status_code == 401
    assert idp.stats()["jwks"] == before["jwks"], "an unknown kid refetched within the interval"
    clock.ticks += 61  # the interval has passed: one refetch, however many tokens
    for n in range(30, 40):
        forged = forge(claims, SigningKey.generate("RS256", f"attacker-{n}"))
        assert (await viewer(oidc_api, forged)).status_code == 401
    assert idp.stats()["jwks"] == before["jwks"] + 1
    assert idp.stats()["discovery"] == before["discovery"]


async def test_alg_none(oidc_api: Api, idp: Provider, tokens: dict[str, str]) -> None:
    token = unsigned(claims_of(tokens["alice"]), idp.key("RS256").kid)
    message = await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)
    assert "'none' is not accepted" in message


async def test_hs256_signed_with_the_public_key(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    token = hs256_with_public_key(claims_of(tokens["alice"]), idp.key("RS256"))
    message = await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)
    assert "'HS256' is not accepted" in message


async def test_a_key_used_under_another_algorithm(
    oidc_api: Api, idp: Provider, tokens: dict[str, str]
) -> None:
    # Signed by an attacker's RSA key but naming the provider's EC key's kid.
    attacker = SigningKey.generate("RS256", idp.key("ES256").kid)
    token = forge(claims_of(tokens["alice"]), attacker)
    await assert_refused(oidc_api, token, 401, "UNAUTHENTICATED", INVALID)


async def test_edited_claims_break_the_signature(oidc_api: Api, tokens: dict[str, str]) -> None:
    head, _, signature = tokens["hugo"].split(".")
    claims = claims_of(tokens["hugo"]) | {"roles": ["admin"]}  # helpdesk -> admin
    edited = f"{head}.{b64url(json.dumps(claims).encode())}.{signature}"
    message = await assert_refused(oidc_api, edited, 401, "UNAUTHENTICATED", INVALID)
    assert "signature" in message


async def test_without_a_subject(oidc_api: Api, idp: Provider, tokens: dict[str, str]) -> None:
    claims = {k: v for k, v in claims_of(tokens["alice"]).items() if k != "sub"}
    message = await assert_refused(
        oidc_api, forge(claims, idp.key("RS256")), 401, "UNAUTHENTICATED", INVALID
    )
    assert "`sub`" in message


async def test_no_role_claim_is_forbidden(oidc_api: Api, tokens: dict[str, str]) -> None:
    assert "roles" not in claims_of(tokens["nobody"])
    message = await assert_refused(oidc_api, tokens["nobody"], 403, "FORBIDDEN", NO_ROLE)
    assert "grants no confid role" in message
    response = await viewer(oidc_api, tokens["nobody"])  # not even a read
    assert response.status_code == 403


async def test_an_unmapped_role_is_forbidden(oidc_api: Api, tokens: dict[str, str]) -> None:
    await assert_refused(oidc_api, tokens["stranger"], 403, "FORBIDDEN", NO_ROLE)


async def test_garbage_that_looks_like_a_jwt(oidc_api: Api) -> None:
    await assert_refused(oidc_api, "eyJhbGciOi.not-json.x", 401, "UNAUTHENTICATED", INVALID)


async def test_an_unknown_static_token_is_an_invalid_token(oidc_api: Api) -> None:
    await assert_refused(oidc_api, "no-such-token", 401, "UNAUTHENTICATED", INVALID)


async def test_no_token_is_a_bare_challenge(oidc_api: Api) -> None:
    response = await oidc_api.post({"query": operation("Viewer")}, token=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="confid"'


# --- keys: rotation, files, an unreachable provider ------------------------------------


async def test_key_rotation_at_the_provider(
    settings: Settings, raw_database: Any, clock: Clock, tmp_path: Path
) -> None:
    with running_provider(tmp_path) as idp:
        async with serving(oidc_settings(settings, idp), raw_database, clock) as api:
            old_token = idp.access_token("alice")
            assert (await viewer(api, old_token)).status_code == 200
            fetched = idp.stats()["jwks"]
            assert fetched == 1
            # The provider publishes a new key and signs with it; the old one stays published.
            new_key = SigningKey.generate("RS256")
            idp.restart([new_key, *idp.keys])
            new_token = idp.access_token("alice")
            assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
            # Within the refresh interval the new kid is not fetched for ...
            await assert_refused(api, new_token, 401, "UNAUTHENTICATED", INVALID)
            assert idp.stats()["jwks"] == 0  # (a fresh process counts from 0)
            # ... after it, the first token with the new kid loads the new keys, once.
            clock.ticks += 61
            assert (await viewer(api, new_token)).status_code == 200
            assert (await viewer(api, old_token)).status_code == 200
            assert idp.stats()["jwks"] == 1
            # The old key is retired; once the cached keys are old enough they are
            # refreshed (in the background) and the old key's tokens stop working.
            idp.restart([k for k in idp.keys if k.kid != old_token_kid(old_token)])
            clock.ticks += 3600
            assert (await viewer(api, new_token)).status_code == 200
            await api.app.state.authenticator.oidc.keys.settled()
            assert idp.stats()["jwks"] == 1
            await assert_refused(api, old_token, 401, "UNAUTHENTICATED", INVALID)
            assert (await viewer(api, new_token)).status_code == 200


def old_token_kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


async def test_keys_from_a_jwks_file_need_no_network(
    settings: Settings, raw_database: Any, idp: Provider, clock: Clock, tmp_path: Path,
    tokens: dict[str, str],
) -> None:  # fmt: skip
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.jwk(private=False) for k in idp.keys]}))
    before = idp.stats()
    configured = oidc_settings(settings, idp, oidc_jwks_file=path)
    async with serving(configured, raw_database, clock) as api:
        assert (await viewer(api, tokens["alice"])).json()["data"]["viewer"]["role"] == "ADMIN"
        forged = forge(claims_of(tokens["alice"]), SigningKey.generate("RS256", "attacker"))
        await assert_refused(api, forged, 401, "UNAUTHENTICATED", INVALID)
    after = idp.stats()
    assert (after["discovery"], after["jwks"]) == (before["discovery"], before["jwks"])


async def test_an_unreachable_provider_is_503_and_static_tokens_still_work(
    settings: Settings, raw_database: Any, idp: Provider, clock: Clock, tokens: dict[str, str]
) -> None:
    from tests.support.idp import free_port

    gone = dataclasses.replace(idp, port=free_port())  # nothing listens there
    configured = oidc_settings(settings, gone, oidc_http_timeout_seconds=2.0)
    token = tokens["alice"]
    claims = claims_of(token) | {"iss": gone.issuer}
    async with serving(configured, raw_database, clock) as api:
        await assert_refused(api, forge(claims, idp.key("RS256")), 503, "INTERNAL")
        assert (await viewer(api, "admin")).status_code == 200

"""The authenticator: static tokens, and OpenID Connect bearer tokens when configured."""

from __future__ import annotations

import json
import logging

from app.services.identity import Authenticator, BrowserSignIn, IdentityClock
from app.services.jwks import Discovery, JwksFile, KeyCache, KeySet, KeySource, KeySourceError
from app.services.oidc import OidcPolicy, OidcValidator
from app.services.tokens import TokenRegistry
from app.settings import Settings
from app.wiring.loaders import StartupError

log = logging.getLogger("confid")


def build_authenticator(
    settings: Settings, tokens: TokenRegistry, clock: IdentityClock
) -> Authenticator:
    """Static tokens, plus the OpenID provider's JWTs when CONFID_OIDC_ISSUER is set."""
    if settings.oidc_issuer is None:
        return Authenticator(tokens, clock=clock)
    issuer = settings.oidc_issuer
    policy = OidcPolicy.build(
        issuer,
        settings.oidc_audiences,
        roles_claim=settings.oidc_roles_claim,
        role_map=settings.oidc_role_map,
        username_claim=settings.oidc_username_claim,
        leeway=settings.oidc_leeway_seconds,
    )
    source: KeySource
    keys: KeySet | None = None
    if settings.oidc_jwks_file is not None:
        source = JwksFile(settings.oidc_jwks_file)
        try:
            keys = KeySet.parse(
                json.loads(settings.oidc_jwks_file.read_bytes()), source.description
            )
        except (OSError, ValueError, KeySourceError) as exc:
            raise StartupError(f"cannot load CONFID_OIDC_JWKS_FILE: {exc}") from None
        if not keys:
            raise StartupError(
                f"CONFID_OIDC_JWKS_FILE {settings.oidc_jwks_file} holds no RS256, ES256 or "
                "EdDSA signing key"
            )
    else:
        source = Discovery(issuer, settings.oidc_http_timeout_seconds)
    cache = KeyCache(
        source,
        min_interval=settings.oidc_jwks_refresh_seconds,
        max_age=settings.oidc_jwks_max_age_seconds,
        timeout=settings.oidc_http_timeout_seconds,
        monotonic=clock.monotonic,
        keys=keys,
    )
    sign_in = (
        BrowserSignIn(issuer, settings.oidc_client_id, settings.oidc_scopes)
        if settings.oidc_client_id
        else None
    )
    log.info(
        "accepting OpenID Connect tokens from %s for audience %s (keys: %s)",
        issuer,
        ", ".join(settings.oidc_audiences),
        source.description,
    )
    return Authenticator(tokens, OidcValidator(policy, cache, now=clock.wall), sign_in, clock)

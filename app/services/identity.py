"""Who presented a bearer token: a static token from the tokens file, or an OpenID Connect JWT."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.access import Principal
from app.domain.errors import InvalidToken
from app.services.oidc import OidcValidator, looks_like_jwt
from app.services.tokens import TokenExpired, TokenRegistry


@dataclass(frozen=True, slots=True)
class IdentityClock:
    """The clocks token checks read: wall time for `exp`/`nbf`/`iat`, monotonic time for
    the key cache's refresh bounds. Tests move them instead of waiting."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True, slots=True)
class BrowserSignIn:
    """What the admin page needs to sign a person in (Authorization Code with PKCE)."""

    issuer: str
    client_id: str
    scopes: str

    def as_json(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "clientId": self.client_id, "scopes": self.scopes}


class Authenticator:
    """Static tokens first (scripts, the CLI), then the issuer's JWTs when OIDC is set up."""

    def __init__(
        self,
        tokens: TokenRegistry,
        oidc: OidcValidator | None = None,
        sign_in: BrowserSignIn | None = None,
        clock: IdentityClock | None = None,
    ) -> None:
        self.tokens = tokens
        self.oidc = oidc
        self.sign_in = sign_in
        self.clock = clock or IdentityClock()

    async def principal(self, token: str) -> Principal:
        """The caller; InvalidToken, Forbidden (no role) or IdentityUnavailable otherwise.
        Its `expires` says until when the token is accepted (websockets close then)."""
        now = datetime.fromtimestamp(self.clock.wall(), UTC)
        try:
            principal = self.tokens.authenticate(token, now)
        except TokenExpired:
            raise InvalidToken("This token has expired; ask for a new one.") from None
        if principal is not None:
            return principal
        if self.oidc is not None and looks_like_jwt(token):
            return await self.oidc.principal(token)
        raise InvalidToken("Unknown or revoked token.")

    def start(self) -> None:
        """Fetch the provider's keys in the background, so the first request need not wait."""
        if self.oidc is not None:
            self.oidc.keys.start()

    async def close(self) -> None:
        if self.oidc is not None:
            await self.oidc.keys.close()

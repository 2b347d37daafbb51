"""OpenID Connect bearer tokens: a JWT from the configured issuer becomes a `Principal`.

Checked, in this order, before anything else happens: the token's shape and size, its
algorithm (RS256, ES256 or EdDSA only, so `none` and HMAC are refused before a key is
looked up), its issuer (before a key is looked up, so foreign tokens never cause a key
fetch), its signature with the issuer's key named by `kid`, its audience, `exp`/`nbf`/
`iat` with a small leeway, and `sub`. Only then are roles read: a valid token whose roles
claim holds no name that maps to a confid role is FORBIDDEN, never given a default role.

The JOSE work is PyJWT's: it verifies the signature with the algorithm bound to the key
(a key never verifies under another algorithm) and checks `iss`, `aud` and required
claims. The times are checked here, against an injectable clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.exceptions import (
    DecodeError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWTError,
)

from app.domain.access import Principal
from app.domain.errors import Forbidden, InvalidToken
from app.domain.models import Role
from app.services.jwks import ALGORITHMS, KeyCache

MAX_JWT_LENGTH = 16 * 1024  # Entra tokens with many groups run to a few KiB
NAME_MAX = 100  # what the audit trail's actor name (and its filter) allows
DISPLAY_NAME_MAX = 200
SUBJECT_MAX = 255  # OpenID Connect Core 1.0, 2: `sub` is at most 255 ASCII characters
USERNAME_CLAIMS = ("preferred_username", "upn", "email", "unique_name")
ROLE_NAMES: Mapping[str, Role] = {
    "admin": Role.ADMIN,
    "helpdesk": Role.HELPDESK,
    "auditor": Role.AUDITOR,
}
# Several mapped roles: the one that can do the most wins (admin can do all that the others
# can; helpdesk and auditor are disjoint, and changes outrank reading the trail).
_PRECEDENCE = (Role.ADMIN, Role.HELPDESK, Role.AUDITOR)


def looks_like_jwt(token: str) -> bool:
    """A compact JWS: three base64url parts, the first a JSON object (`eyJ` is `{"`)."""
    return token.startswith("eyJ") and token.count(".") == 2


@dataclass(frozen=True)
class OidcPolicy:
    """What a token must say to be accepted, and how its claims become a principal."""

    issuer: str
    audiences: tuple[str, ...]
    roles_claim: str = "roles"
    role_map: Mapping[str, Role] = field(default_factory=lambda: dict(ROLE_NAMES))
    username_claim: str | None = None
    leeway: float = 30.0

    @classmethod
    def build(
        cls,
        issuer: str,
        audiences: tuple[str, ...],
        *,
        roles_claim: str = "roles",
        role_map: tuple[tuple[str, str], ...] = (),
        username_claim: str | None = None,
        leeway: float = 30.0,
    ) -> OidcPolicy:
        """`role_map` pairs (claim value, role name) add to admin/helpdesk/auditor."""
        names = dict(ROLE_NAMES)
        names.update({value: ROLE_NAMES[role] for value, role in role_map})
        return cls(issuer, audiences, roles_claim, names, username_claim, leeway)


class OidcValidator:
    """Validates one issuer's JWT bearer tokens against its published keys."""

    def __init__(
        self, policy: OidcPolicy, keys: KeyCache, *, now: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy
        self.keys = keys
        self._now = now

    async def principal(self, token: str) -> Principal:
        """The caller this token names; InvalidToken or Forbidden otherwise."""
        policy = self.policy
        if len(token) > MAX_JWT_LENGTH:
            raise InvalidToken(f"The token is longer than {MAX_JWT_LENGTH} characters.")
        try:  # a first look, to refuse early what needs no key (and to pick the key)
            peek = jwt.decode_complete(token, options={"verify_signature": False})
        except PyJWTError:
            raise InvalidToken("The token is not a well-formed JWT.") from None
        header, unverified = peek["header"], peek["payload"]
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidToken(
                f"The token's algorithm {alg!r} is not accepted "
                f"(only {', '.join(sorted(ALGORITHMS))})."
            )
        if "crit" in header:
            raise InvalidToken("The token has critical header parameters confid does not know.")
        if unverified.get("iss") != policy.issuer:
            raise InvalidToken("The token was issued by another issuer.")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("The token's `kid` is not a string.")
        key = await self.keys.key_for(kid, alg)
        if key is None:
            raise InvalidToken("The token is signed with a key its issuer does not publish.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=list(policy.audiences),
                issuer=policy.issuer,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "verify_exp": False,  # checked below against the injectable clock
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except (InvalidSignatureError, InvalidAlgorithmError):
            raise InvalidToken("The token's signature does not verify.") from None
        except InvalidAudienceError:
            raise InvalidToken("The token was issued for another audience.") from None
        except InvalidIssuerError:
            raise InvalidToken("The token was issued by another issuer.") from None
        except MissingRequiredClaimError as exc:
            raise InvalidToken(f"The token has no `{exc.claim}` claim.") from None
        except (DecodeError, PyJWTError):
            raise InvalidToken("The token is not a valid JWT.") from None
        exp = self._check_times(claims)
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_MAX:
            raise InvalidToken("The token's `sub` is not a string of 1 to 255 characters.")
        role = self._role(claims)
        return Principal(
            name=self._username(claims, subject),
            role=role,
            issuer=policy.issuer,
            subject=subject,
            display_name=_text(claims.get("name"), DISPLAY_NAME_MAX),
            expires=exp + policy.leeway,  # refused from then on, as checked below
        )

    def _check_times(self, claims: Mapping[str, Any]) -> float:
        """`exp`, once `exp`, `nbf` and `iat` are found acceptable now."""
        now, leeway = self._now(), self.policy.leeway
        exp = _number(claims, "exp")
        if exp is None:
            raise InvalidToken("The token's `exp` is not a number.")
        if exp <= now - leeway:
            raise InvalidToken("The token has expired.")
        nbf = _number(claims, "nbf")
        if "nbf" in claims and nbf is None:
            raise InvalidToken("The token's `nbf` is not a number.")
        if nbf is not None and nbf > now + leeway:
            raise InvalidToken("The token is not valid yet (`nbf`).")
        iat = _number(claims, "iat")
        if "iat" in claims and iat is None:
            raise InvalidToken("The token's `iat` is not a number.")
        if iat is not None and iat > now + leeway:
            raise InvalidToken("The token was issued in the future (`iat`).")
        return exp

    def _role(self, claims: Mapping[str, Any]) -> Role:
        names = _strings(_claim(claims, self.policy.roles_claim))
        granted = {self.policy.role_map[n] for n in names if n in self.policy.role_map}
        for role in _PRECEDENCE:
            if role in granted:
                return role
        raise Forbidden(
            f"The token is valid but grants no confid role: its `{self.policy.roles_claim}` "
            "claim holds none of admin, helpdesk, auditor or a name in CONFID_OIDC_ROLE_MAP."
        )

    def _username(self, claims: Mapping[str, Any], subject: str) -> str:
        wanted = (self.policy.username_claim,) if self.policy.username_claim else USERNAME_CLAIMS
        for name in wanted:
            text = _text(claims.get(name), NAME_MAX)
            if text:
                return text
        return subject[:NAME_MAX]


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (`realm_access.roles`).

    A top-level claim whose name has dots (`https://example.com/roles`) wins over a path.
    """
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    """A list of strings from a claim that holds one string or a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Any, limit: int) -> str | None:
    """A printable, trimmed string claim cut to `limit`; None when there is none."""
    if not isinstance(value, str):
        return None
    text = "".join(c for c in value if c.isprintable()).strip()
    return text[:limit] or None

"""Bearer tokens: a TOML file of SHA-256 hashes, or generated ones for the embedded demo."""

from __future__ import annotations

import hashlib
import re
import secrets
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

from app.domain.access import Principal
from app.domain.models import Role

_ROLES = {"admin": Role.ADMIN, "helpdesk": Role.HELPDESK, "auditor": Role.AUDITOR}
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_TOKEN_LENGTH = 512


def _now() -> datetime:
    return datetime.now(UTC)


class TokenFileError(ValueError):
    """The tokens file cannot be used; the message says which entry and why."""


def hash_token(token: str) -> str:
    """The hex SHA-256 that the tokens file stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenExpired(Exception):
    """The token is known but past its `expires` time."""


class TokenRegistry:
    """Maps a presented token to its principal by hash; plaintext is never kept."""

    def __init__(
        self, by_hash: dict[str, Principal], expiry: dict[str, datetime] | None = None
    ) -> None:
        self._by_hash = by_hash
        self._expiry = expiry or {}

    def authenticate(self, token: str, now: datetime | None = None) -> Principal | None:
        """The token's principal; None when unknown; TokenExpired when past `expires`."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        digest = hash_token(token)
        principal = self._by_hash.get(digest)
        expires = self._expiry.get(digest)
        if principal is not None and expires is not None and (now or _now()) >= expires:
            raise TokenExpired(
                f"the token of {principal.name!r} expired at {expires:%Y-%m-%d %H:%M} UTC"
            )
        return principal

    def __len__(self) -> int:
        return len(self._by_hash)

    @classmethod
    def from_file(cls, path: Path) -> TokenRegistry:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"cannot read tokens file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise TokenFileError(f"tokens file {path} is not valid TOML: {exc}") from None
        entries = data.get("tokens")
        if not isinstance(entries, list) or not entries:
            raise TokenFileError(f"tokens file {path} has no [[tokens]] entries")
        by_hash: dict[str, Principal] = {}
        expiry: dict[str, datetime] = {}
        roles: dict[str, str] = {}
        for number, entry in enumerate(entries, start=1):
            where = f"{path}, token #{number}"
            if not isinstance(entry, dict):
                raise TokenFileError(f"{where}: not a table")
            name, role, digest = entry.get("name"), entry.get("role"), entry.get("sha256")
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise TokenFileError(f"{where}: 'name' must be a non-empty string")
            if role not in _ROLES:
                raise TokenFileError(f"{where}: 'role' must be one of {', '.join(_ROLES)}")
            if not isinstance(digest, str) or not _HEX64.fullmatch(digest.lower()):
                raise TokenFileError(f"{where}: 'sha256' must be 64 hex digits")
            if digest.lower() in by_hash:
                raise TokenFileError(f"{where}: the same token hash appears twice")
            if roles.setdefault(name.strip(), role) != role:
                raise TokenFileError(
                    f"{where}: the name {name.strip()!r} is already a {roles[name.strip()]} "
                    f"token; a name is one actor in the audit trail, so give each role its own "
                    f"name (two tokens may share a name and role while one replaces the other)"
                )
            expires = entry.get("expires")
            if expires is not None:
                if not isinstance(expires, datetime | date):
                    raise TokenFileError(f"{where}: 'expires' must be a TOML date or date-time")
                if not isinstance(expires, datetime):
                    expires = datetime(expires.year, expires.month, expires.day, tzinfo=UTC)
                elif expires.tzinfo is None:
                    expires = expires.replace(tzinfo=UTC)
                expiry[digest.lower()] = expires
            until = expiry[digest.lower()].timestamp() if digest.lower() in expiry else None
            by_hash[digest.lower()] = Principal(name.strip(), _ROLES[role], expires=until)
        return cls(by_hash, expiry)

    @classmethod
    def generated(cls) -> tuple[TokenRegistry, dict[str, str]]:
        """One fresh token per role (embedded demo); returns the plaintext to print once."""
        plain = {role: f"confid-{role}-{secrets.token_urlsafe(24)}" for role in _ROLES}
        registry = cls(
            {hash_token(t): Principal(f"demo-{role}", _ROLES[role]) for role, t in plain.items()}
        )
        return registry, plain

"""Bearer tokens: a TOML file of SHA-256 hashes, or generated ones for the embedded demo."""

from __future__ import annotations

import hashlib
import re
import secrets
import tomllib
from pathlib import Path

from app.domain.access import Principal
from app.domain.models import Role

_ROLES = {"admin": Role.ADMIN, "helpdesk": Role.HELPDESK, "auditor": Role.AUDITOR}
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_TOKEN_LENGTH = 512


class TokenFileError(ValueError):
    """The tokens file cannot be used; the message says which entry and why."""


def hash_token(token: str) -> str:
    """The hex SHA-256 that the tokens file stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRegistry:
    """Maps a presented token to its principal by hash; plaintext is never kept."""

    def __init__(self, by_hash: dict[str, Principal]) -> None:
        self._by_hash = by_hash

    def authenticate(self, token: str) -> Principal | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return self._by_hash.get(hash_token(token))

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
            by_hash[digest.lower()] = Principal(name.strip(), _ROLES[role])
        return cls(by_hash)

    @classmethod
    def generated(cls) -> tuple[TokenRegistry, dict[str, str]]:
        """One fresh token per role (embedded demo); returns the plaintext to print once."""
        plain = {role: f"confid-{role}-{secrets.token_urlsafe(24)}" for role in _ROLES}
        registry = cls(
            {hash_token(t): Principal(f"demo-{role}", _ROLES[role]) for role, t in plain.items()}
        )
        return registry, plain

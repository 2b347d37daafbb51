"""Bearer tokens (app.services.tokens): a TOML file of SHA-256 hashes, or generated ones for
the embedded demo; clear errors for a bad file; expired tokens refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.models import Role
from app.services.tokens import TokenFileError, TokenRegistry, hash_token


def test_tokens_file_maps_hashes_to_principals(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        f'[[tokens]]\nname = "alice"\nrole = "admin"\nsha256 = "{hash_token("s3cret")}"\n'
    )
    registry = TokenRegistry.from_file(path)
    principal = registry.authenticate("s3cret")
    assert principal is not None and principal.name == "alice" and principal.role is Role.ADMIN
    assert registry.authenticate("S3cret") is None
    assert registry.authenticate("") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "not valid TOML"),
        ("", "no \\[\\[tokens\\]\\]"),
        ('[[tokens]]\nname = "a"\nrole = "root"\nsha256 = "' + "0" * 64 + '"', "role"),
        ('[[tokens]]\nname = "a"\nrole = "admin"\nsha256 = "plaintext"', "sha256"),
        ('[[tokens]]\nrole = "admin"\nsha256 = "' + "0" * 64 + '"', "name"),
    ],
)
def test_bad_tokens_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(TokenFileError, match=message):
        TokenRegistry.from_file(path)


def test_a_name_is_one_role_but_may_have_two_tokens(tmp_path: Path) -> None:
    """Two tokens of one name and role (a rotation) are fine; one name with two roles would
    make one actor in the trail two different callers, so the file is refused."""
    entry = '[[tokens]]\nname = "ops"\nrole = "{role}"\nsha256 = "{digest}"\n'
    path = tmp_path / "t.toml"
    path.write_text(
        entry.format(role="helpdesk", digest=hash_token("old"))
        + entry.format(role="helpdesk", digest=hash_token("new"))
    )
    registry = TokenRegistry.from_file(path)
    assert registry.authenticate("old") == registry.authenticate("new")
    path.write_text(
        entry.format(role="helpdesk", digest=hash_token("a"))
        + entry.format(role="auditor", digest=hash_token("b"))
    )
    with pytest.raises(TokenFileError, match="token #2: the name 'ops' is already a helpdesk"):
        TokenRegistry.from_file(path)


def test_generated_tokens_are_one_per_role() -> None:
    registry, plain = TokenRegistry.generated()
    assert set(plain) == {"admin", "helpdesk", "auditor"} and len(registry) == 3
    roles = {registry.authenticate(t).role for t in plain.values()}  # type: ignore[union-attr]
    assert roles == {Role.ADMIN, Role.HELPDESK, Role.AUDITOR}


def test_expired_tokens_are_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from app.services.tokens import TokenExpired

    path = tmp_path / "t.toml"
    path.write_text(
        f'[[tokens]]\nname = "old"\nrole = "admin"\nsha256 = "{hash_token("a")}"\n'
        "expires = 2026-01-01T00:00:00Z\n"
        f'[[tokens]]\nname = "new"\nrole = "auditor"\nsha256 = "{hash_token("b")}"\n'
        "expires = 2999-01-01\n"
    )
    registry = TokenRegistry.from_file(path)
    with pytest.raises(TokenExpired):
        registry.authenticate("a", datetime(2026, 6, 1, tzinfo=UTC))
    assert registry.authenticate("b") is not None

"""The CLI apart from any server: its layering, the error mapping, and agreement with the
schema and the operation files."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx2 as httpx
import pytest

from app.cli import client as cli_client
from app.cli.errors import AuthError, ExitCode, ServerError, Unreachable, UsageError
from app.cli.main import cli
from tests.support.api import OPERATIONS, ROOT


def test_the_cli_imports_no_service_store_or_api_module() -> None:
    code = "import sys, app.cli.main; print('\\n'.join(sorted(sys.modules)))"
    modules = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    forbidden = [
        m
        for m in modules
        if m.split(".")[:2] in (["app", "services"], ["app", "store"], ["app", "api"])
        or m in ("app.main", "strawberry", "pymongo", "starlette")
    ]
    assert forbidden == []


def _response(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"data": None, "errors": [{"message": f"m-{code}", "extensions": {"code": code}}]}
    request = httpx.Request("POST", "http://confid.test/graphql")
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "code", "error", "exit_code"),
    [
        (401, "UNAUTHENTICATED", AuthError, ExitCode.AUTH),
        (200, "FORBIDDEN", AuthError, ExitCode.AUTH),
        (403, "FORBIDDEN", AuthError, ExitCode.AUTH),
        (200, "BAD_REQUEST", UsageError, ExitCode.USAGE),
        (413, "BAD_REQUEST", UsageError, ExitCode.USAGE),
        (200, "QUERY_TOO_COMPLEX", UsageError, ExitCode.USAGE),
        (503, "INTERNAL", Unreachable, ExitCode.UNREACHABLE),
        (500, "INTERNAL", ServerError, ExitCode.SERVER_ERROR),
        (200, "INTERNAL", ServerError, ExitCode.SERVER_ERROR),
    ],
)
def test_top_level_errors_map_to_exit_codes(
    status: int, code: str, error: type[Exception], exit_code: int
) -> None:
    response = _response(status, code, **({"Retry-After": "5"} if status == 503 else {}))
    with pytest.raises(error) as raised:
        cli_client.raise_for_errors(response.json()["errors"], response, response.json())
    assert raised.value.exit_code == exit_code  # type: ignore[attr-defined]
    assert f"m-{code}" in raised.value.message  # type: ignore[attr-defined]
    if status == 503:
        assert "retry after 5 s" in raised.value.message  # type: ignore[attr-defined]


def _sdl_enum(name: str) -> set[str]:
    sdl = (ROOT / "graphql" / "schema.graphql").read_text()
    body = re.search(rf"enum {name} {{(.*?)}}", sdl, re.S)
    assert body is not None
    return set(re.findall(r"^\s+([A-Z_]+)$", body.group(1), re.M))


def test_choices_are_the_schemas_enum_values() -> None:
    audit = cli.commands["audit"]
    events = audit.commands["events"]  # type: ignore[attr-defined]
    params = {p.name: p for p in events.params}
    assert set(params["action"].type.choices) == _sdl_enum("AuditAction")
    assert set(params["outcome"].type.choices) == _sdl_enum("AuditOutcome")
    listing = cli.commands["notifications"].commands["list"]  # type: ignore[attr-defined]
    kind = next(p for p in listing.params if p.name == "kind")
    assert set(kind.type.choices) == _sdl_enum("NotificationKind")


def test_every_operation_the_cli_sends_is_a_file_of_graphql_operations() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "app" / "cli").glob("*.py"))
    names = set(re.findall(r'(?:run|mutate|find_user|fetch)\(\s*(?:session,\s*)?"(\w+)"', source))
    names |= set(re.findall(r'^\s+"([A-Z]\w+)",$', source, re.M))
    assert {"GetUser", "ListUsers", "ResetConferenceId", "ListAuditEvents"} <= names
    missing = [n for n in names if not (OPERATIONS / f"{n}.graphql").is_file()]
    assert missing == []

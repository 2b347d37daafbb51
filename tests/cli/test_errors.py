"""The CLI's exit codes (app.cli.errors): each top-level error maps to its code."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from app.cli import client as cli_client
from app.cli.errors import AuthError, ExitCode, ServerError, Unreachable, UsageError


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

"""Errors as the API shows them (app.api.errors): an internal error is masked, names the
request id, and is logged."""

from __future__ import annotations

import logging

import pytest

from tests.support.api import Api, operation


async def test_internal_errors_are_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("secret connection string mongodb://user:pw@db")

    monkeypatch.setattr(api.services.directory, "bridges", broken)
    with caplog.at_level(logging.ERROR, logger="confid.api"):
        body = await api.gql(operation("ListBridges"))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret" not in error["message"]
    assert error["extensions"]["requestId"] in error["message"]
    assert any("internal error" in r.getMessage() for r in caplog.records)

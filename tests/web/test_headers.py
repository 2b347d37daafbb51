"""Security headers of the pages (app.web.headers): the Content-Security-Policy, and the
origins it may name."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.web.graphiql import graphiql_response
from app.web.headers import PagePolicies, origin_of
from tests.support.web import fake_build


def test_with_a_sign_in_the_policy_adds_the_issuers_origin_to_connect_src_only(
    tmp_path: Path,
) -> None:
    issuer = "https://login.example.test:8443/tenant/v2.0"
    policies = PagePolicies.for_sign_in(issuer)
    response = graphiql_response(build_dir=fake_build(tmp_path), csp=policies.graphiql)
    assert response is not None
    for policy in (response.headers["content-security-policy"], policies.admin):
        csp = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert csp["connect-src"] == "'self' https://login.example.test:8443"
        others = {k: v for k, v in csp.items() if k != "connect-src"}
        assert all("http" not in value for value in others.values()), others
        assert csp["frame-src"] == "'none'" and csp["form-action"] == "'none'"


@pytest.mark.parametrize(
    ("url", "origin"),
    [("https://idp.example/realms/x", "https://idp.example"),
     ("http://127.0.0.1:4011", "http://127.0.0.1:4011"),
     ("https://[::1]:9/x", "https://[::1]:9")],
)  # fmt: skip
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize("url", ["idp.example", "javascript:alert(1)", "https://"])
def test_origin_of_refuses_what_is_no_web_origin(url: str) -> None:
    with pytest.raises(ValueError):
        origin_of(url)

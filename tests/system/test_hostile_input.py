"""Arbitrary input at every mutation and at checkConferenceId: always a well-formed
GraphQL response, never a 500, and nothing changes unless the input was valid."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.policy import email_problems, format_problems
from tests.support.api import Api, operation

NASTY = [
    "", " ", "\x00", "\u202e1234567", '{"$ne": null}', '{"$gt": ""}', "$where", "this.x==1",
    "'; db.users.drop(); '", "<script>alert(1)</script>", "٣٣٣٩١٤٦", "８３９０１４６",
    "8390146\n", "VXNlcjp1MDAwMDE", "VXNlcjp7IiRuZSI6bnVsbH0", "\ud7ff" * 10, "x" * 5000,
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("0123456789٠١٢٣٨８９²"), max_size=9),
    st.integers(0, 10**8).map(str),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
MUTATIONS = {
    "EnableAudioConferencing": ["bridgeId"],
    "SetConferenceId": ["conferenceId", "reason"],
    "ResetConferenceId": ["reason"],
    "SendConferenceInfo": ["toAddress"],
}
ALLOWED_CODES = {"BAD_REQUEST", "QUERY_TOO_COMPLEX"}


async def snapshot(api: Api) -> tuple[list[Any], int]:
    db = api.services.database
    users = await db.get_collection("users").find({}, {"audio": 1}).sort("_id", 1).to_list(None)
    successes = await db.get_collection("audit_events").count_documents({"outcome": "SUCCESS"})
    return users, successes


@st.composite
def attempts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from([*MUTATIONS, "CheckConferenceId"]))
    user_id = draw(st.one_of(st.just("<enabled>"), st.just("<disabled>"), TEXT))
    if name == "CheckConferenceId":
        return name, {"userId": user_id, "conferenceId": draw(TEXT)}
    fields: dict[str, Any] = {"userId": user_id}
    for field in MUTATIONS[name]:
        if draw(st.booleans()) or field == "conferenceId":
            fields[field] = draw(st.one_of(TEXT, JSON)) if draw(st.booleans()) else draw(TEXT)
    if draw(st.booleans()):
        fields["sendEmail"] = draw(st.one_of(st.booleans(), JSON))
    return name, {"input": fields}


def valid_for_policy(name: str, variables: dict[str, Any]) -> bool:
    fields = variables.get("input", {})
    if name == "SetConferenceId":
        value = fields.get("conferenceId")
        return isinstance(value, str) and not format_problems(value, 7)
    if name == "SendConferenceInfo" and fields.get("toAddress") is not None:
        value = fields["toAddress"]  # null means the primary address
        return isinstance(value, str) and not email_problems(value, ())
    return True


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(attempt=attempts())
async def test_hostile_input_never_breaks_anything(api: Api, attempt: Any) -> None:
    name, variables = attempt
    users = await api.users()
    enabled = next(u for u in users if u["audioConferencing"])
    # Valid examples enable the disabled users one by one; then any user will do.
    disabled = next((u for u in users if not u["audioConferencing"]), enabled)
    for holder in (variables, variables.get("input", {})):
        if holder.get("userId") == "<enabled>":
            holder["userId"] = enabled["id"]
        elif holder.get("userId") == "<disabled>":
            holder["userId"] = disabled["id"]
    before = await snapshot(api)
    response = await api.post({"query": operation(name), "variables": variables})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert "data" in body
    for error in body.get("errors", []):
        assert error["extensions"]["code"] in ALLOWED_CODES, error
        assert "Traceback" not in error["message"]
    result = (body["data"] or {}).get(next(iter(body["data"] or {"": None})))
    changed = await snapshot(api) != before
    if result is None or result.get("userErrors") or name == "CheckConferenceId":
        assert not changed, "a refused or read-only request changed something"
    else:
        assert valid_for_policy(name, variables), "an invalid input was accepted"

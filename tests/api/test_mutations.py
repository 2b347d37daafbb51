"""Every mutation through the GraphQL API: success paths and each error code."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.api.ids import encode_id
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.changes import set_id


async def reset(api: Api, user_id: str, token: str = "admin", **extra: Any) -> dict[str, Any]:
    data = await api.data(
        operation("ResetConferenceId"), {"input": {"userId": user_id, **extra}}, token
    )
    result: dict[str, Any] = data["resetConferenceId"]
    return result


async def lookup(api: Api, conference_id: str) -> dict[str, Any] | None:
    data = await api.data(operation("LookupConferenceId"), {"conferenceId": conference_id})
    result: dict[str, Any] | None = data["lookupConferenceId"]
    return result


def error_codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_reset_retires_the_old_id_and_emails_the_new_one(api: Api) -> None:
    user = await api.enabled_user()
    old = user["audioConferencing"]["conferenceId"]
    payload = await reset(api, user["id"], token="helpdesk", reason="forgot it")
    assert payload["userErrors"] == []
    new = payload["user"]["audioConferencing"]["conferenceId"]
    assert new != old and len(new) == 7 and new.isascii() and new.isdigit()
    event = payload["auditEvent"]
    assert (event["action"], event["outcome"], event["errorCodes"]) == ("RESET", "SUCCESS", [])
    note = payload["notification"]
    assert note["kind"] == "CONFERENCE_ID_CHANGED" and note["status"] == "RECORDED"
    assert note["conferenceId"] == new and new in note["body"]
    assert note["to"] == [user["email"]]
    assert "+14255550100" in note["body"] and "+18005550199" in note["body"]
    assert "reschedule" in note["body"].lower() and "no longer works" in note["body"]
    assert "pin" not in note["body"].lower()
    assert await lookup(api, old) is None
    holder = await lookup(api, new)
    assert holder is not None and holder["id"] == user["id"]


async def test_set_a_chosen_id(api: Api) -> None:
    user = await api.enabled_user()
    old = user["audioConferencing"]["conferenceId"]
    payload = await set_id(api, user["id"], "0839146", reason="vanity")
    assert payload["userErrors"] == []
    assert payload["user"]["audioConferencing"]["conferenceId"] == "0839146"
    assert payload["auditEvent"]["action"] == "SET"
    assert payload["notification"]["kind"] == "CONFERENCE_ID_CHANGED"
    assert await lookup(api, old) is None
    # The retired ID can never be set again, by anyone, including its old holder.
    again = await set_id(api, user["id"], old)
    assert error_codes(again) == ["RETIRED"]
    other = await api.enabled_user(1)
    assert error_codes(await set_id(api, other["id"], old)) == ["RETIRED"]


@pytest.mark.parametrize(
    ("conference_id", "codes", "rule"),
    [
        ("83901a6", ["INVALID_CHARACTERS"], None),
        ("٨٣٩٠١٤٦", ["INVALID_CHARACTERS"], None),
        (" 839014", ["INVALID_CHARACTERS"], None),
        ("839014", ["WRONG_LENGTH"], None),
        ("83901466", ["WRONG_LENGTH"], None),
        ("", ["INVALID_CHARACTERS", "WRONG_LENGTH"], None),
        ("7777777", ["WEAK_PATTERN"], "SINGLE_DIGIT"),
        ("1777778", ["WEAK_PATTERN"], "RUN_OF_FIVE"),
        ("3456789", ["WEAK_PATTERN"], "SEQUENCE"),
        ("4074074", ["WEAK_PATTERN"], "REPEATED_GROUP"),
        ('{"$ne": null}', ["INVALID_CHARACTERS", "WRONG_LENGTH"], None),
    ],
)
async def test_set_refuses_bad_ids_and_changes_nothing(
    api: Api, conference_id: str, codes: list[str], rule: str | None
) -> None:
    user = await api.enabled_user()
    payload = await set_id(api, user["id"], conference_id)
    assert error_codes(payload) == codes
    assert payload["userErrors"][-1]["rule"] == rule
    assert payload["userErrors"][0]["field"] == ["input", "conferenceId"]
    assert payload["auditEvent"]["outcome"] == "REJECTED"
    assert payload["auditEvent"]["errorCodes"] == codes
    assert payload["notification"] is None
    assert (await api.enabled_user())["audioConferencing"] == user["audioConferencing"]


async def test_set_same_as_current_and_in_use(api: Api) -> None:
    first, second = await api.enabled_user(0), await api.enabled_user(1)
    current = first["audioConferencing"]["conferenceId"]
    assert error_codes(await set_id(api, first["id"], current)) == ["SAME_AS_CURRENT"]
    taken = second["audioConferencing"]["conferenceId"]
    assert error_codes(await set_id(api, first["id"], taken)) == ["IN_USE"]


async def test_reason_over_500_characters_is_too_long(api: Api) -> None:
    user = await api.enabled_user()
    payload = await reset(api, user["id"], reason="x" * 1_000_000)
    assert error_codes(payload) == ["TOO_LONG"]
    assert payload["userErrors"][0]["field"] == ["input", "reason"]
    assert payload["auditEvent"]["outcome"] == "REJECTED"
    assert (await api.enabled_user())["audioConferencing"] == user["audioConferencing"]


async def test_an_unknown_user_is_a_refusal_that_is_audited(api: Api) -> None:
    payload = await reset(api, encode_id("User", "nobody"))
    assert error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == ["input", "userId"]
    assert payload["auditEvent"]["outcome"] == "REJECTED"


async def test_a_malformed_id_is_a_bad_request_and_not_audited(api: Api) -> None:
    """A client bug, not an attempt: the same answer in every mutation and query."""
    events = api.services.database.get_collection("audit_events")
    before = await events.count_documents({})
    bridge_id = encode_id("Bridge", "default")
    user = await api.enabled_user()
    cases = [
        ("ResetConferenceId", {"input": {"userId": "not-an-id"}}),
        ("ResetConferenceId", {"input": {"userId": bridge_id}}),
        ("SetConferenceId", {"input": {"userId": "not-an-id", "conferenceId": "8390146"}}),
        ("SendConferenceInfo", {"input": {"userId": bridge_id}}),
        ("EnableAudioConferencing", {"input": {"userId": "%%%"}}),
        ("EnableAudioConferencing", {"input": {"userId": user["id"], "bridgeId": "default"}}),
        ("CheckConferenceId", {"userId": "not-an-id", "conferenceId": "8390146"}),
        ("GetUser", {"id": bridge_id}),
    ]
    for name, variables in cases:
        body = await api.gql(operation(name), variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], (name, body)
        assert "not a valid" in body["errors"][0]["message"]
    assert await events.count_documents({}) == before


async def test_not_enabled_user_cannot_be_reset_or_set(api: Api) -> None:
    user = await api.disabled_user()
    assert error_codes(await reset(api, user["id"])) == ["NOT_ENABLED"]
    assert error_codes(await set_id(api, user["id"], "8390146")) == ["NOT_ENABLED"]


async def test_enable_assigns_an_id_and_sends_conference_info(api: Api) -> None:
    user = await api.disabled_user()
    data = await api.data(
        operation("EnableAudioConferencing"), {"input": {"userId": user["id"]}}, "helpdesk"
    )
    payload = data["enableAudioConferencing"]
    assert payload["userErrors"] == []
    conference_id = payload["user"]["audioConferencing"]["conferenceId"]
    assert payload["auditEvent"]["action"] == "ASSIGN"
    note = payload["notification"]
    assert note["kind"] == "CONFERENCE_INFO" and note["conferenceId"] == conference_id
    assert conference_id in note["body"] and "+14255550100" in note["body"]
    again = await api.data(
        operation("EnableAudioConferencing"), {"input": {"userId": user["id"]}}, "helpdesk"
    )
    assert error_codes(again["enableAudioConferencing"]) == ["ALREADY_ENABLED"]


async def test_enable_with_emails_off_records_a_suppressed_email(api: Api) -> None:
    user = await api.disabled_user()
    data = await api.data(
        operation("EnableAudioConferencing"), {"input": {"userId": user["id"], "sendEmail": False}}
    )
    assert data["enableAudioConferencing"]["notification"]["status"] == "SUPPRESSED"


async def test_enable_on_an_unknown_bridge(api: Api) -> None:
    user = await api.disabled_user()
    for bridge_id in [encode_id("Bridge", "nope")]:
        data = await api.data(
            operation("EnableAudioConferencing"),
            {"input": {"userId": user["id"], "bridgeId": bridge_id}},
        )
        payload = data["enableAudioConferencing"]
        assert error_codes(payload) == ["NOT_FOUND"]
        assert payload["userErrors"][0]["field"] == ["input", "bridgeId"]


async def test_send_conference_info(api: Api) -> None:
    user = await api.enabled_user()
    data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    payload = data["sendConferenceInfo"]
    assert payload["userErrors"] == []
    note = payload["notification"]
    assert note["kind"] == "CONFERENCE_INFO" and note["toPrimaryAddress"] is True
    assert note["to"] == [user["email"]]
    assert payload["auditEvent"]["action"] == "SEND_INFO"
    assert payload["auditEvent"]["recipients"] == [user["email"]]

    other = await api.data(
        operation("SendConferenceInfo"),
        {"input": {"userId": user["id"], "toAddress": "assistant@contoso.example"}},
    )
    payload = other["sendConferenceInfo"]
    assert payload["notification"]["toPrimaryAddress"] is False
    assert payload["notification"]["to"] == ["assistant@contoso.example"]
    assert payload["auditEvent"]["toNonPrimaryAddress"] is True


@pytest.mark.parametrize("address", ["not an address", "a@b", "x" * 250 + "@contoso.example"])
async def test_send_conference_info_to_a_bad_address(api: Api, address: str) -> None:
    user = await api.enabled_user()
    data = await api.data(
        operation("SendConferenceInfo"), {"input": {"userId": user["id"], "toAddress": address}}
    )
    payload = data["sendConferenceInfo"]
    assert error_codes(payload) == ["INVALID_EMAIL"]
    assert payload["notification"] is None
    assert payload["auditEvent"]["outcome"] == "REJECTED"


async def test_a_refused_send_lists_nobody_it_did_not_address(api: Api) -> None:
    user = await api.disabled_user()
    data = await api.data(
        operation("SendConferenceInfo"),
        {"input": {"userId": user["id"], "toAddress": "outsider@elsewhere.example"}},
    )
    payload = data["sendConferenceInfo"]
    assert error_codes(payload) == ["NOT_ENABLED"]
    assert payload["notification"] is None
    # No email went anywhere: neither the other address asked for nor the primary one.
    assert payload["auditEvent"]["recipients"] == []
    assert payload["auditEvent"]["toNonPrimaryAddress"] is False
    plain = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    assert plain["sendConferenceInfo"]["auditEvent"]["recipients"] == []
    assert plain["sendConferenceInfo"]["auditEvent"]["toNonPrimaryAddress"] is False


async def test_send_info_entries_keep_the_id_in_one_field(api: Api) -> None:
    """The ID the email carries (or would have carried) is newConferenceId, sent or not."""
    user = await api.enabled_user()
    current = user["audioConferencing"]["conferenceId"]
    query = """mutation($input: SendConferenceInfoInput!) { sendConferenceInfo(input: $input) {
        auditEvent { outcome previousConferenceId newConferenceId } } }"""
    sent = await api.data(query, {"input": {"userId": user["id"]}})
    refused = await api.data(query, {"input": {"userId": user["id"], "toAddress": "nope"}})
    for data, outcome in ((sent, "SUCCESS"), (refused, "REJECTED")):
        event = data["sendConferenceInfo"]["auditEvent"]
        assert event == {
            "outcome": outcome,
            "previousConferenceId": None,
            "newConferenceId": current,
        }


async def test_a_blank_reason_is_no_reason(api: Api) -> None:
    user = await api.enabled_user()
    payload = await reset(api, user["id"], reason="")
    assert payload["userErrors"] == []
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    assert data["auditEvents"]["edges"][0]["node"]["reason"] is None


async def test_control_characters_in_a_reason_are_refused(api: Api) -> None:
    user = await api.enabled_user()
    for reason in ["bell\x07", "esc\x1b[2J", "nul\x00"]:
        data = await api.data(
            operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": reason}}
        )
        payload = data["resetConferenceId"]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_CHARACTERS"]
        assert payload["userErrors"][0]["field"] == ["input", "reason"]
        assert payload["auditEvent"]["outcome"] == "REJECTED"


async def test_emails_off_for_the_tenant(settings: Settings, raw_database: Any) -> None:
    api = await make_api(replace(settings, send_emails_automatically=False), raw_database)
    user = await api.enabled_user()
    data = await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    assert data["resetConferenceId"]["notification"]["status"] == "SUPPRESSED"
    asked = await api.data(
        operation("ResetConferenceId"), {"input": {"userId": user["id"], "sendEmail": True}}
    )
    assert asked["resetConferenceId"]["notification"]["status"] == "RECORDED"
    await api.client.aclose()

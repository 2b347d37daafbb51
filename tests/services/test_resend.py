"""`resendNotification`: a FAILED email sent again as a new, linked, audited notification."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from app.api.ids import decode_id, encode_id
from app.services.steps import Step
from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.faults import Fault, ProcessDied
from tests.support.invariants import assert_consistent
from tests.support.mailserver import REFUSED, MailServer, failed_email, serving, smtp


async def resend(
    api: Api, notification_id: str, key: str | None = None, token: str = "admin"
) -> Any:
    variables = {"input": {"notificationId": notification_id, "idempotencyKey": key}}
    return await api.gql(operation("ResendNotification"), variables, token=token)


async def trail(api: Api) -> list[dict[str, Any]]:
    data = await api.data(operation("ListAuditEvents"), {"first": 100})
    return [e["node"] for e in data["auditEvents"]["edges"]]


async def test_a_failed_email_is_sent_again_as_a_new_linked_notification(
    settings: Settings, raw_database: Any
) -> None:
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        user, old = await failed_email(api, mail)
        result = (await resend(api, old["id"]))["data"]["resendNotification"]
    assert result["userErrors"] == []
    new = result["notification"]
    assert new["id"] != old["id"] and (new["status"], new["attempts"]) == ("SENT", 1)
    assert new["resendOf"] == {"id": old["id"], "status": "FAILED", "error": REFUSED}
    assert new["to"] == [user["email"]] and new["toPrimaryAddress"] is True
    assert new["kind"] == "CONFERENCE_INFO"
    assert new["conferenceId"] == user["audioConferencing"]["conferenceId"]
    event = result["auditEvent"]
    assert (event["action"], event["outcome"], event["recipients"]) == (
        "SEND_INFO", "SUCCESS", [user["email"]],
    )  # fmt: skip
    # The new email is a new message: its own Message-ID, accepted once.
    new_raw, old_raw = decode_id(new["id"], "Notification"), decode_id(old["id"], "Notification")
    assert mail.accepted_ids == [f"<{new_raw}@contoso.example>"]
    assert mail.data_commands[f"<{old_raw}@contoso.example>"] == 1
    listed = await api.data(operation("ListNotifications"), {"userId": user["id"]})
    statuses = {e["node"]["id"]: e["node"]["status"] for e in listed["notifications"]["edges"]}
    assert statuses[old["id"]] == "FAILED" and statuses[new["id"]] == "SENT"
    await api.client.aclose()
    await assert_consistent(raw_database)


async def test_only_a_failed_email_can_be_resent_and_refusals_are_audited(
    settings: Settings, raw_database: Any
) -> None:
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        user = await api.enabled_user()
        data = await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
        sent = data["sendConferenceInfo"]["notification"]
        assert sent["status"] == "SENT"
        refused = (await resend(api, sent["id"]))["data"]["resendNotification"]
        missing = (await resend(api, encode_id("Notification", "n_nope")))["data"]
        foreign = await resend(api, user["id"])  # a User id, not a Notification's
    assert refused["notification"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_RESENDABLE"]
    assert refused["userErrors"][0]["field"] == ["input", "notificationId"]
    assert (refused["auditEvent"]["action"], refused["auditEvent"]["outcome"]) == (
        "SEND_INFO", "REJECTED",
    )  # fmt: skip
    assert [e["code"] for e in missing["resendNotification"]["userErrors"]] == ["NOT_FOUND"]
    # An id of another type is a client's mistake: BAD_REQUEST, and nothing audited.
    assert [e["extensions"]["code"] for e in foreign["errors"]] == ["BAD_REQUEST"]
    assert len(mail.accepted) == 1  # only the first send
    await api.client.aclose()


@pytest.mark.parametrize("role", ["helpdesk", "auditor"])
async def test_only_admins_may_resend(settings: Settings, raw_database: Any, role: str) -> None:
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        _, old = await failed_email(api, mail)
        before = len(await trail(api))
        result = await resend(api, old["id"], token=role)
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert len(await trail(api)) == before and mail.accepted == []
    await api.client.aclose()


async def test_a_retried_resend_with_the_same_key_sends_once(
    settings: Settings, raw_database: Any
) -> None:
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        _, old = await failed_email(api, mail)
        first, second = await asyncio.gather(
            resend(api, old["id"], key="resend-4711"), resend(api, old["id"], key="resend-4711")
        )
    a = first["data"]["resendNotification"]["notification"]
    b = second["data"]["resendNotification"]["notification"]
    assert a["id"] == b["id"] and a["status"] == "SENT"
    assert len(mail.accepted) == 1
    await api.client.aclose()


async def test_a_failed_email_is_sent_again_at_most_once(
    settings: Settings, raw_database: Any
) -> None:
    """A double click (two resends at once, no key) sends one email and refuses the other,
    naming the resend; so does a later resend. The resend may itself be resent when it
    fails too."""
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        _, old = await failed_email(api, mail)
        mail.script = [REFUSED]  # the resend fails as well
        both = await asyncio.gather(resend(api, old["id"]), resend(api, old["id"]))
        mail.script = []
        later = (await resend(api, old["id"]))["data"]["resendNotification"]
        sent, refused = sorted(
            (r["data"]["resendNotification"] for r in both), key=lambda p: bool(p["userErrors"])
        )
        again = (await resend(api, sent["notification"]["id"]))["data"]["resendNotification"]
    assert sent["userErrors"] == [] and sent["notification"]["status"] == "FAILED"
    resend_id = decode_id(sent["notification"]["id"], "Notification")
    for payload in (refused, later):
        assert payload["notification"] is None
        (problem,) = payload["userErrors"]
        assert problem["code"] == "NOT_RESENDABLE" and resend_id in problem["message"]
        assert payload["auditEvent"]["outcome"] == "REJECTED"
    assert again["userErrors"] == [] and again["notification"]["status"] == "SENT"
    assert again["notification"]["resendOf"]["id"] == sent["notification"]["id"]
    sends = [e for e in await trail(api) if e["action"] == "SEND_INFO"]
    assert (
        sorted(e["outcome"] for e in sends) == ["REJECTED", "REJECTED", "SUCCESS"] + ["SUCCESS"] * 2
    )
    # Three emails handed over: the first, the one resend (both refused), the resend's
    # resend (accepted); never a second resend of one email.
    assert len(mail.accepted) == 1
    await api.client.aclose()


async def test_a_resend_interrupted_after_its_commit_is_finished_still_linked(
    settings: Settings, raw_database: Any
) -> None:
    quick = replace(settings, recovery_grace_seconds=0)
    fault = Fault()
    async with serving(MailServer()) as mail:
        first = await make_api(quick, raw_database, transport=smtp(mail.port), fault=fault)
        user, old = await failed_email(first, mail)
        fault.step = Step.AUDITED  # after the SEND_INFO entry, before the email is recorded
        with pytest.raises(ProcessDied):
            await resend(first, old["id"])
        await asyncio.sleep(0.01)
        second = await make_api(quick, raw_database, transport=smtp(mail.port))  # recovers
        listed = await second.data(operation("ListNotifications"), {"userId": user["id"]})
    nodes = [e["node"] for e in listed["notifications"]["edges"]]
    (new,) = [n for n in nodes if n["resendOf"] is not None]
    assert new["resendOf"] == {"id": old["id"]} and new["status"] == "SENT"
    assert len(mail.accepted) == 1
    for api in (first, second):
        await api.client.aclose()
    await assert_consistent(raw_database)

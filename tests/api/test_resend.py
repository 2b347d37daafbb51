"""`resendNotification`'s arguments (app.api.resend): the email named by `id`, as the issue
spells it, or by `input.notificationId`; both or neither is a client's mistake."""

from __future__ import annotations

from typing import Any

from app.settings import Settings
from tests.support.api import make_api
from tests.support.mailserver import MailServer, failed_email, serving, smtp


async def test_the_email_may_be_named_by_id_as_the_issue_spells_it(
    settings: Settings, raw_database: Any
) -> None:
    """`resendNotification(id)` and `resendNotification(input: {notificationId})` are one
    mutation; naming the email both ways, or neither, is a client's mistake."""
    async with serving(MailServer()) as mail:
        api = await make_api(settings, raw_database, transport=smtp(mail.port))
        _, old = await failed_email(api, mail)
        by_id = await api.gql(
            "mutation($id: ID) { resendNotification(id: $id) { notification { resendOf { id } } "
            "userErrors { code } } }",
            {"id": old["id"]},
        )
        both = await api.gql(
            "mutation($id: ID) { resendNotification(id: $id, input: {notificationId: $id}) "
            "{ userErrors { code } } }",
            {"id": old["id"]},
        )
        neither = await api.gql("mutation { resendNotification { userErrors { code } } }")
    assert by_id["data"]["resendNotification"]["userErrors"] == []
    assert by_id["data"]["resendNotification"]["notification"]["resendOf"]["id"] == old["id"]
    for refused in (both, neither):
        assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    await api.client.aclose()

"""The Query root (app.api.queries): users and search, the viewer, lookups, the dry-run
check, node, bridges."""

from __future__ import annotations

from typing import Any

from app.api.ids import encode_id
from tests.support.api import Api, operation


async def check(api: Api, user_id: str, conference_id: str) -> dict[str, Any]:
    data = await api.data(
        operation("CheckConferenceId"), {"userId": user_id, "conferenceId": conference_id},
        token="auditor",
    )  # fmt: skip
    result: dict[str, Any] = data["checkConferenceId"]
    return result


async def test_users_page_through_the_directory(api: Api) -> None:
    seen: list[str] = []
    after = None
    while True:
        data = await api.data(operation("ListUsers"), {"first": 5, "after": after})
        seen += [e["node"]["displayName"] for e in data["users"]["edges"]]
        if not data["users"]["pageInfo"]["hasNextPage"]:
            break
        after = data["users"]["pageInfo"]["endCursor"]
    assert len(seen) == 12 and seen == sorted(seen, key=str.casefold)


async def test_search_by_name_or_email_any_case(api: Api) -> None:
    user = await api.enabled_user()
    first_name = user["displayName"].split()[0]
    data = await api.data(operation("ListUsers"), {"search": first_name.upper()})
    names = [e["node"]["displayName"] for e in data["users"]["edges"]]
    assert user["displayName"] in names and all(first_name in n for n in names)
    by_email = await api.data(operation("GetUser"), {"email": user["email"].upper()})
    assert by_email["user"]["id"] == user["id"]


async def test_user_by_unknown_id_is_null(api: Api) -> None:
    data = await api.data(operation("GetUser"), {"id": encode_id("User", "nobody")})
    assert data["user"] is None


async def test_bridges(api: Api) -> None:
    data = await api.data(operation("ListBridges"))
    (bridge,) = data["bridges"]
    assert bridge["conferenceIdLength"] == 7 and bridge["isDefault"] is True
    assert bridge["defaultTollNumber"].startswith("+")


async def test_check_conference_id_is_a_dry_run(api: Api) -> None:
    user, other = await api.enabled_user(0), await api.enabled_user(1)
    before = await api.data(operation("ListAuditEvents"), {"first": 1})
    assert await check(api, user["id"], "8390146") == {"valid": True, "errors": []}
    weak = await check(api, user["id"], "1212121")
    assert weak["valid"] is False
    assert [(e["code"], e["rule"]) for e in weak["errors"]] == [("WEAK_PATTERN", "REPEATED_GROUP")]
    # The paths name checkConferenceId's own arguments (it has no `input`).
    assert weak["errors"][0]["field"] == ["conferenceId"]
    taken = await check(api, user["id"], other["audioConferencing"]["conferenceId"])
    assert [e["code"] for e in taken["errors"]] == ["IN_USE"]
    same = await check(api, user["id"], user["audioConferencing"]["conferenceId"])
    assert [e["code"] for e in same["errors"]] == ["SAME_AS_CURRENT"]
    nobody = await check(api, encode_id("User", "nobody"), "8390146")
    assert [(e["code"], e["field"]) for e in nobody["errors"]] == [("NOT_FOUND", ["userId"])]
    after = await api.data(operation("ListAuditEvents"), {"first": 1})
    assert after == before


async def test_check_reports_retired_ids(api: Api) -> None:
    user = await api.enabled_user()
    old = user["audioConferencing"]["conferenceId"]
    await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    result = await check(api, user["id"], old)
    assert [e["code"] for e in result["errors"]] == ["RETIRED"]


async def check_on_bridge(api: Api, conference_id: str, **more: Any) -> dict[str, Any]:
    data = await api.data(
        operation("CheckConferenceId"), {"conferenceId": conference_id, **more}, token="helpdesk"
    )
    result: dict[str, Any] = data["checkConferenceId"]
    return result


async def test_check_without_a_user_asks_the_bridge(api: Api) -> None:
    before = await api.data(operation("ListAuditEvents"), {"first": 1})
    user = await api.enabled_user()
    held = user["audioConferencing"]["conferenceId"]
    bridge_id = user["audioConferencing"]["bridge"]["id"]
    free = "4821395"  # no demo user holds it
    assert await check_on_bridge(api, free) == {"valid": True, "errors": []}
    assert await check_on_bridge(api, free, bridgeId=bridge_id) == {"valid": True, "errors": []}
    taken = await check_on_bridge(api, held)  # held by anyone is in use: no user to exclude
    assert [(e["code"], e["field"]) for e in taken["errors"]] == [("IN_USE", ["conferenceId"])]
    weak = await check_on_bridge(api, "1212121")
    assert [(e["code"], e["rule"]) for e in weak["errors"]] == [("WEAK_PATTERN", "REPEATED_GROUP")]
    short = await check_on_bridge(api, "12345")
    assert "WRONG_LENGTH" in [e["code"] for e in short["errors"]]
    await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    retired = await check_on_bridge(api, held)
    assert [e["code"] for e in retired["errors"]] == ["RETIRED"]
    nowhere = await check_on_bridge(api, free, bridgeId=encode_id("Bridge", "nowhere"))
    assert [(e["code"], e["field"]) for e in nowhere["errors"]] == [("NOT_FOUND", ["bridgeId"])]
    both = await api.gql(
        operation("CheckConferenceId"),
        {"conferenceId": free, "userId": user["id"], "bridgeId": bridge_id},
    )
    assert both["data"] is None and both["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "at most one of `userId` and `bridgeId`" in both["errors"][0]["message"]
    after = await api.data(operation("ListAuditEvents"), {"first": 1})
    latest = after["auditEvents"]["edges"][0]["node"]
    assert latest["action"] == "RESET"  # the reset above; the checks wrote nothing
    assert before["auditEvents"]["edges"][0]["node"]["sequence"] + 1 == latest["sequence"]


async def test_users_on_one_bridge(api: Api) -> None:
    everyone = await api.users()
    bridge_id = next(u for u in everyone if u["audioConferencing"])["audioConferencing"]["bridge"][
        "id"
    ]
    data = await api.data(operation("ListUsers"), {"first": 100, "bridgeId": bridge_id})
    listed = [e["node"]["id"] for e in data["users"]["edges"]]
    enabled = [u["id"] for u in everyone if u["audioConferencing"]]
    assert sorted(listed) == sorted(enabled) and len(enabled) < len(everyone)
    nowhere = await api.data(operation("ListUsers"), {"bridgeId": encode_id("Bridge", "nowhere")})
    assert nowhere["users"]["edges"] == []
    bad = await api.gql(operation("ListUsers"), {"bridgeId": "not-an-id"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_lookup_of_unknown_or_malformed_ids_is_null(api: Api) -> None:
    for conference_id in ["8390146", "", "x" * 64, '{"$ne": null}']:
        data = await api.data(operation("LookupConferenceId"), {"conferenceId": conference_id})
        assert data["lookupConferenceId"] is None


async def test_node_resolves_every_kind(api: Api) -> None:
    user = await api.enabled_user()
    data = await api.data(operation("Node"), {"id": user["id"]})
    assert data["node"]["__typename"] == "User"
    event = await api.data(operation("ListAuditEvents"), {"first": 1})
    event_id = event["auditEvents"]["edges"][0]["node"]["id"]
    data = await api.data(operation("Node"), {"id": event_id})
    assert data["node"]["__typename"] == "AuditEvent"
    denied = await api.gql(operation("Node"), {"id": event_id}, token="helpdesk")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_viewer_names_the_token(api: Api) -> None:
    data = await api.data(operation("Viewer"), token="helpdesk")
    assert data["viewer"] == {
        "name": "helpdesk-1",
        "role": "HELPDESK",
        "issuer": None,
        "subject": None,
        "displayName": None,
    }


async def test_injection_looking_search_matches_literally(api: Api) -> None:
    for search in ['{"$ne": null}', ".*", "$where", "a|b"]:
        data = await api.data(operation("ListUsers"), {"search": search})
        assert data["users"]["edges"] == []

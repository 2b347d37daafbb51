"""`confid user ...`, `users list`, `check`, `lookup`, `bridges`, `notifications`, `whoami`
against a running confid: exit codes, tables, `--json` and refusals word for word."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cli import DEMO_USERS, Confid, no_escape_codes


def enabled(confid: Confid, index: int) -> dict[str, Any]:
    return [u for u in confid.users() if u["audioConferencing"]][index]


def test_whoami_names_the_token(confid: Confid) -> None:
    for role in ("admin", "helpdesk", "auditor"):
        ran = confid.run("whoami", role=role)
        assert ran.code == 0, ran
        assert f"{role}-1 ({role})" in ran.stdout
    viewer = confid.run("whoami", "--json", role="auditor").json()["viewer"]
    assert (viewer["name"], viewer["role"], viewer["issuer"]) == ("auditor-1", "AUDITOR", None)


def test_user_get_by_email_and_by_id_prints_what_the_api_answers(confid: Confid) -> None:
    user = enabled(confid, 1)
    api = confid.graphql("GetUser", {"id": user["id"]})
    assert "errors" not in api
    by_email = confid.run("user", "get", user["email"].upper(), "--json")
    by_id = confid.run("user", "get", user["id"], "--json")
    assert by_email.code == by_id.code == 0
    assert by_email.json() == by_id.json() == api["data"]
    table = confid.run("user", "get", user["email"])
    assert table.code == 0 and no_escape_codes(table.stdout, table.stderr)
    for value in (user["displayName"], user["id"], user["audioConferencing"]["conferenceId"]):
        assert value in table.stdout
    assert "+14255550100" in table.stdout  # the bridge's toll number


def test_user_get_unknown_exits_1_and_malformed_id_exits_2(confid: Confid) -> None:
    missing = confid.run("user", "get", "nobody@contoso.example", "--json")
    assert missing.code == 1 and missing.json() == {"user": None}
    assert "NOT_FOUND" in missing.stderr and "nobody@contoso.example" in missing.stderr
    garbage = confid.run("user", "get", "not-an-id")
    assert garbage.code == 2, garbage
    assert "BAD_REQUEST" in garbage.stderr


def test_users_list_one_page_and_every_page(confid: Confid) -> None:
    page = confid.run("users", "list", "--first", "5", "--json").json()["users"]
    assert len(page["edges"]) == 5 and page["pageInfo"]["hasNextPage"] is True
    table = confid.run("users", "list", "--first", "5")
    assert table.code == 0
    assert page["edges"][0]["node"]["email"] in table.stdout
    assert f"--after {page['pageInfo']['endCursor']}" in table.stdout
    every = confid.run("users", "list", "--all", "--first", "7", "--json")
    assert every.code == 0
    users = every.json()["users"]
    assert len(users["edges"]) == DEMO_USERS
    assert len({e["node"]["id"] for e in users["edges"]}) == DEMO_USERS
    assert users["pageInfo"]["hasNextPage"] is False
    # Not a terminal: plain progress lines on stderr, one a page after the first, no codes.
    progress = [line for line in every.stderr.splitlines() if line.startswith("fetching")]
    assert progress == [f"fetching: {n} users" for n in (7, 14, 21, 24)]
    assert no_escape_codes(every.stdout, every.stderr)
    after = confid.run(
        "users", "list", "--first", "5", "--after", page["pageInfo"]["endCursor"], "--json"
    )
    assert after.json()["users"]["edges"] == users["edges"][5:10]


def test_users_list_search(confid: Confid) -> None:
    target = confid.users()[3]
    ran = confid.run("users", "list", "--search", target["email"].upper(), "--json")
    assert [e["node"]["id"] for e in ran.json()["users"]["edges"]] == [target["id"]]


def test_reset_retires_the_old_id_and_reports_audit_and_email(confid: Confid) -> None:
    user = enabled(confid, 2)
    old = user["audioConferencing"]["conferenceId"]
    ran = confid.run("user", "reset", user["email"], "--reason", "shared on a slide")
    assert ran.code == 0, ran
    new = confid.graphql("GetUser", {"id": user["id"]})["data"]["user"]["audioConferencing"]
    assert new["conferenceId"] != old
    assert f"conference ID is now {new['conferenceId']}" in ran.stdout
    assert "RESET SUCCESS" in ran.stdout and "CONFERENCE_ID_CHANGED" in ran.stdout
    assert "rescheduled" in ran.stdout
    assert confid.run("lookup", old, role="helpdesk").code == 1
    found = confid.run("lookup", new["conferenceId"], "--json", role="helpdesk")
    assert found.code == 0 and found.json()["lookupConferenceId"]["id"] == user["id"]


def test_reset_json_without_email_and_idempotency(confid: Confid) -> None:
    user = enabled(confid, 3)
    args = ("user", "reset", user["id"], "--no-send-email", "--idempotency-key", "ticket-1")
    first = confid.run(*args, "--json", role="helpdesk")
    assert first.code == 0, first
    payload = first.json()["resetConferenceId"]
    assert payload["userErrors"] == []
    assert payload["auditEvent"]["action"] == "RESET"
    assert payload["notification"]["status"] == "SUPPRESSED"
    again = confid.run(*args, "--json", role="helpdesk").json()["resetConferenceId"]
    assert again["user"] == payload["user"]  # replayed, not reset a second time


def test_set_refusal_prints_code_rule_and_the_servers_message(confid: Confid) -> None:
    user = enabled(confid, 4)
    check = confid.graphql("CheckConferenceId", {"userId": user["id"], "conferenceId": "1212121"})
    [error] = check["data"]["checkConferenceId"]["errors"]
    ran = confid.run("user", "set", user["email"], "--conference-id", "1212121")
    assert ran.code == 1, ran
    assert (
        f"refused: WEAK_PATTERN (rule REPEATED_GROUP) [input.conferenceId]: {error['message']}"
        in ran.stderr
    )
    assert "recorded in the audit trail as entry #" in ran.stderr
    as_json = confid.run("user", "set", user["id"], "--conference-id", "12a", "--json")
    assert as_json.code == 1
    codes = [e["code"] for e in as_json.json()["setConferenceId"]["userErrors"]]
    assert codes == ["INVALID_CHARACTERS", "WRONG_LENGTH"]
    assert "INVALID_CHARACTERS" in as_json.stderr and "WRONG_LENGTH" in as_json.stderr
    unchanged = confid.graphql("GetUser", {"id": user["id"]})["data"]["user"]
    assert unchanged["audioConferencing"] == {**user["audioConferencing"]}


def test_check_then_set_a_chosen_id(confid: Confid) -> None:
    user = enabled(confid, 5)
    chosen = next(
        c
        for c in ("4821395", "5930417", "6041528", "7152639")
        if confid.run("check", c, "--user", user["email"]).code == 0
    )
    ok = confid.run("check", chosen, "--user", user["id"], "--json")
    assert ok.json() == {"checkConferenceId": {"valid": True, "errors": []}}
    assert (
        confid.run("user", "set", user["email"], "--conference-id", chosen, role="helpdesk").code
        == 3
    )
    ran = confid.run("user", "set", user["email"], "--conference-id", chosen, "--reason", "asked")
    assert ran.code == 0, ran
    assert f"conference ID is now {chosen}" in ran.stdout
    taken = confid.run("check", chosen, "--user", enabled(confid, 6)["email"])
    assert taken.code == 1 and "IN_USE" in taken.stderr
    weak = confid.run("check", "1234567", "--user", user["email"], "--json")
    assert weak.code == 1
    assert weak.json()["checkConferenceId"]["errors"][0]["rule"] == "SEQUENCE"
    assert "(rule SEQUENCE)" in weak.stderr


def test_check_without_a_user_and_users_on_a_bridge(confid: Confid) -> None:
    free = confid.run("check", "3958026", role="helpdesk")
    assert free.code == 0, free
    assert "3958026 would be accepted on the default bridge." in free.stdout
    held = enabled(confid, 9)
    taken = confid.run("check", held["audioConferencing"]["conferenceId"], "--json")
    assert taken.code == 1 and taken.json()["checkConferenceId"]["errors"][0]["code"] == "IN_USE"
    weak = confid.run("check", "1212121", "--bridge", "contoso audio conferencing")
    assert weak.code == 1 and "(rule REPEATED_GROUP)" in weak.stderr
    nowhere = confid.run("check", "4821395", "--bridge", "Nowhere")
    assert nowhere.code == 2 and "Contoso Audio Conferencing" in nowhere.stderr
    listed = confid.run(
        "users", "list", "--bridge", "Contoso Audio Conferencing", "--all", "--json"
    )
    ids = [e["node"]["id"] for e in listed.json()["users"]["edges"]]
    enabled_ids = [u["id"] for u in confid.users() if u["audioConferencing"]]
    assert sorted(ids) == sorted(enabled_ids) and held["id"] in ids
    unknown = confid.run("users", "list", "--bridge", "Nowhere")
    assert unknown.code == 2 and "no bridge has the id or name 'Nowhere'" in unknown.stderr


def test_enable_send_info_and_notifications(confid: Confid) -> None:
    user = next(u for u in confid.users() if u["audioConferencing"] is None)
    ran = confid.run("user", "enable", user["email"], "--bridge", "contoso audio conferencing")
    assert ran.code == 0, ran
    assert "ASSIGN SUCCESS" in ran.stdout and "CONFERENCE_INFO" in ran.stdout
    again = confid.run("user", "enable", user["email"])
    assert again.code == 1 and "ALREADY_ENABLED" in again.stderr
    unknown_bridge = confid.run("user", "enable", user["email"], "--bridge", "Nowhere")
    assert unknown_bridge.code == 2 and "Contoso Audio Conferencing" in unknown_bridge.stderr
    sent = confid.run("user", "send-info", user["email"], "--to", "pa@contoso.example", "--json")
    assert sent.code == 0, sent
    notification = sent.json()["sendConferenceInfo"]["notification"]
    assert notification["to"] == ["pa@contoso.example"]
    assert notification["toPrimaryAddress"] is False
    bad = confid.run("user", "send-info", user["email"], "--to", "not an address")
    assert bad.code == 1 and "INVALID_EMAIL" in bad.stderr
    listed = confid.run("notifications", "list", "--user", user["email"], "--json", role="auditor")
    kinds = [e["node"]["kind"] for e in listed.json()["notifications"]["edges"]]
    assert kinds == ["CONFERENCE_INFO", "CONFERENCE_INFO"]
    table = confid.run("notifications", "list", "--user", user["id"], role="auditor")
    assert "pa@contoso.example (not primary)" in table.stdout
    assert confid.run("notifications", "list", role="helpdesk").code == 3


def test_history_of_a_user(confid: Confid) -> None:
    user = enabled(confid, 7)
    assert confid.run("user", "reset", user["email"], "--reason", "twice").code == 0
    ran = confid.run("user", "history", user["email"], "--json", role="auditor")
    assert ran.code == 0
    history = ran.json()["user"]["conferenceIdHistory"]
    assert [e["node"]["action"] for e in history["edges"]] == ["RESET", "ASSIGN"]
    table = confid.run("user", "history", user["id"], role="auditor")
    assert "twice" in table.stdout and "2 change(s)" in table.stdout
    assert confid.run("user", "history", user["id"], role="helpdesk").code == 3


def test_lookup_and_bridges(confid: Confid) -> None:
    user = enabled(confid, 8)
    conference_id = user["audioConferencing"]["conferenceId"]
    ran = confid.run("lookup", conference_id, "--bridge", "Contoso Audio Conferencing")
    assert ran.code == 0 and user["displayName"] in ran.stdout
    assert confid.run("lookup", conference_id, role="auditor").code == 3
    missing = confid.run("lookup", "0000001", "--json")
    assert missing.code == 1 and missing.json() == {"lookupConferenceId": None}
    bridges = confid.run("bridges", "list", "--json").json()["bridges"]
    assert [b["conferenceIdLength"] for b in bridges] == [7]
    assert bridges[0]["name"] in confid.run("bridges", "list").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("user", "set", "x@contoso.example"),  # --conference-id is required
        ("users", "list", "--first", "0"),
        ("users", "list", "--first", "101"),
        ("audit", "events", "--action", "DELETE"),
        ("user", "frobnicate", "x"),
        ("check", "1234567", "--user", "x@contoso.example", "--bridge", "y"),  # one or other
    ],
)
def test_usage_mistakes_exit_2_before_any_request(confid: Confid, args: tuple[str, ...]) -> None:
    ran = confid.run(*args, role=None)  # no token: these never get as far as asking
    assert ran.code == 2, ran

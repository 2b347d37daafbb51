"""Idempotency keys (app.services.idempotency): a retried mutation changes nothing more; a
reused key is refused; a keyed retry finishes the first change instead of running twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from app.settings import Settings
from tests.support.api import Api, make_api, operation
from tests.support.faults import META
from tests.support.invariants import assert_consistent


async def count(api: Api, collection: str) -> int:
    return int(await api.services.database.get_collection(collection).count_documents({}))


async def reset(api: Api, variables: dict[str, Any], token: str = "helpdesk") -> dict[str, Any]:
    data = await api.data(operation("ResetConferenceId"), {"input": variables}, token)
    result: dict[str, Any] = data["resetConferenceId"]
    return result


async def test_a_retried_reset_returns_the_first_result(api: Api) -> None:
    user = await api.enabled_user()
    first = await reset(api, {"userId": user["id"], "idempotencyKey": "ticket-77"})
    events, notes = await count(api, "audit_events"), await count(api, "notifications")
    again = await reset(api, {"userId": user["id"], "idempotencyKey": "ticket-77"})
    assert again["auditEvent"] == first["auditEvent"]
    assert (first["replayed"], again["replayed"]) == (False, True)  # a replay says so
    assert again["notification"]["id"] == first["notification"]["id"]
    assert again["user"]["audioConferencing"] == first["user"]["audioConferencing"]
    assert (await count(api, "audit_events"), await count(api, "notifications")) == (events, notes)


async def test_concurrent_retries_run_once(racing_api: Api) -> None:
    user = await racing_api.enabled_user()
    results = await asyncio.gather(
        *[reset(racing_api, {"userId": user["id"], "idempotencyKey": "k1"}) for _ in range(8)]
    )
    assert len({r["auditEvent"]["sequence"] for r in results}) == 1
    assert sorted(r["replayed"] for r in results) == [False] + [True] * 7
    assert len({r["user"]["audioConferencing"]["conferenceId"] for r in results}) == 1


async def test_the_same_key_with_another_input_is_refused(api: Api) -> None:
    user = await api.enabled_user()
    await reset(api, {"userId": user["id"], "idempotencyKey": "k2", "reason": "a"})
    refused = await reset(api, {"userId": user["id"], "idempotencyKey": "k2", "reason": "b"})
    (error,) = refused["userErrors"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert error["field"] == ["input", "idempotencyKey"]
    assert refused["auditEvent"]["outcome"] == "REJECTED"


async def test_keys_belong_to_their_caller(api: Api) -> None:
    user = await api.enabled_user()
    mine = await reset(api, {"userId": user["id"], "idempotencyKey": "shared"}, "helpdesk")
    theirs = await reset(api, {"userId": user["id"], "idempotencyKey": "shared"}, "admin")
    assert mine["auditEvent"]["sequence"] != theirs["auditEvent"]["sequence"]


async def test_a_rejected_first_attempt_replays_its_errors(api: Api) -> None:
    user = await api.enabled_user()
    variables = {"input": {"userId": user["id"], "conferenceId": "1234567", "idempotencyKey": "s"}}
    first = await api.data(operation("SetConferenceId"), variables)
    again = await api.data(operation("SetConferenceId"), variables)
    assert again["setConferenceId"]["userErrors"] == first["setConferenceId"]["userErrors"]
    assert again["setConferenceId"]["auditEvent"] == first["setConferenceId"]["auditEvent"]


async def test_every_mutation_takes_a_key(api: Api) -> None:
    disabled, enabled = await api.disabled_user(), await api.enabled_user()
    cases = [
        ("EnableAudioConferencing", {"userId": disabled["id"]}),
        ("SendConferenceInfo", {"userId": enabled["id"]}),
        ("SetConferenceId", {"userId": enabled["id"], "conferenceId": "8390146"}),
    ]
    for name, variables in cases:
        body = {"input": {**variables, "idempotencyKey": f"key-{name}"}}
        first = await api.data(operation(name), body)
        before = await count(api, "audit_events")
        second = await api.data(operation(name), body)
        assert await count(api, "audit_events") == before
        (payload,) = first.values()
        (replayed,) = second.values()
        assert payload["userErrors"] == [] and replayed["userErrors"] == []
        assert replayed["auditEvent"]["sequence"] == payload["auditEvent"]["sequence"]


async def test_an_overlong_key_is_refused(api: Api) -> None:
    user = await api.enabled_user()
    refused = await reset(api, {"userId": user["id"], "idempotencyKey": "k" * 101})
    assert [e["code"] for e in refused["userErrors"]] == ["TOO_LONG"]


async def test_a_person_and_a_static_token_of_the_same_name_never_share_keys(api: Api) -> None:
    from app.domain.models import Actor, RequestMeta, Role

    token_alice = RequestMeta(Actor("alice", Role.ADMIN))
    person_alice = RequestMeta(Actor("alice", Role.ADMIN, issuer="https://id.test", subject="7"))
    user = (await api.services.directory.users_page(1, None, None))[0][0][0]
    first = await api.services.changes.reset(token_alice, user.id, idempotency_key="k")
    second = await api.services.changes.reset(person_alice, user.id, idempotency_key="k")
    assert not first.replayed and not second.replayed
    assert first.audit_event and second.audit_event
    assert second.audit_event.sequence == first.audit_event.sequence + 1


async def test_a_keyed_retry_finishes_the_first_change_instead_of_running_twice(
    settings: Settings, raw_database: Any
) -> None:
    armed = False

    async def fail_once_after_commit(step: Any) -> None:
        nonlocal armed
        if step.value == "committed" and armed:
            armed = False
            raise RuntimeError("network gone after the commit")

    api = await make_api(
        replace(settings, recovery_grace_seconds=0), raw_database, fault=fail_once_after_commit
    )
    services = api.services
    user = await raw_database.get_collection("users").find_one({"audio": {"$exists": True}})

    async def attempt() -> Any:
        return await services.changes.reset(META, user["_id"], idempotency_key="retry-me")

    armed = True
    with pytest.raises(RuntimeError):
        await attempt()
    await asyncio.sleep(0.01)
    retried = await attempt()
    again = await attempt()
    assert retried.problems == [] and retried.audit_event is not None
    assert again.audit_event is not None
    assert again.audit_event.sequence == retried.audit_event.sequence
    resets = await raw_database.get_collection("audit_events").count_documents(
        {"action": "RESET", "outcome": "SUCCESS"}
    )
    emails = await raw_database.get_collection("notifications").count_documents(
        {"kind": "CONFERENCE_ID_CHANGED"}
    )
    assert (resets, emails) == (1, 1)
    await api.client.aclose()
    await assert_consistent(raw_database)


async def test_bulk_reset_keys_of_a_person_and_a_token_of_the_same_name_are_apart(
    api: Api,
) -> None:
    from app.domain.bulk import Selection
    from app.domain.models import Actor, RequestMeta, Role

    token_alice = RequestMeta(Actor("alice", Role.ADMIN))
    person_alice = RequestMeta(Actor("alice", Role.ADMIN, issuer="https://id.test", subject="7"))
    users = [u for u in (await api.services.directory.users_page(50, None, None))[0]]
    enabled = [u[0] for u in users if u[0].audio is not None][:2]
    bulk = api.services.bulk
    first = await bulk.start(
        token_alice, Selection.of(user_ids=[enabled[0].id]), "leak", False, "k"
    )
    second = await bulk.start(
        person_alice, Selection.of(user_ids=[enabled[1].id]), "leak", False, "k"
    )
    assert first.job is not None and second.job is not None
    assert not second.replayed and second.job.id != first.job.id

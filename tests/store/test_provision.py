"""The production MongoDB role: least privilege, and a validator real entries satisfy."""

from __future__ import annotations

import re
from typing import Any

from app.store.provision import ACTIONS, AUDIT_EVENTS_VALIDATOR, privileges
from tests.support.api import Api, operation


def test_the_audit_trail_is_insert_and_find_only() -> None:
    grants = {p["resource"]["collection"]: set(p["actions"]) for p in privileges("confid")}
    assert grants["audit_events"] == {"insert", "find", "createIndex"}
    for actions in grants.values():
        assert not actions & {"dropCollection", "collMod", "dropDatabase", "createUser"}
    assert set(grants) == set(ACTIONS)
    assert {p["resource"]["db"] for p in privileges("confid")} == {"confid"}


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The subset of $jsonSchema the validator uses, enough to check real entries."""
    kinds = schema.get("bsonType")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        python = {"object": dict, "string": str, "array": list, "bool": bool,
                  "int": int, "long": int, "date": object}  # fmt: skip
        if not any(isinstance(value, python[k]) for k in kinds):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if isinstance(value, dict):
        if any(k not in value for k in schema.get("required", [])):
            return False
        props = schema.get("properties", {})
        return all(conforms(v, props[k]) for k, v in value.items() if k in props)
    if isinstance(value, list) and "items" in schema:
        return all(conforms(v, schema["items"]) for v in value)
    return True


async def test_real_entries_satisfy_the_validator(api: Api) -> None:
    user = await api.enabled_user()
    await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": "r"}})
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "1"}}
    )
    await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
    events = api.services.database.get_collection("audit_events")
    docs = await events.find({}).to_list(None)
    schema = AUDIT_EVENTS_VALIDATOR["$jsonSchema"]
    assert docs and all(conforms(doc, schema) for doc in docs)
    tampered = {**docs[0], "hash": "not-a-hash"}
    assert not conforms(tampered, schema)

"""`python -m app.store.provision`: the least-privilege MongoDB role and user confid runs as,
and the `$jsonSchema` validator of `audit_events`. Run once, as a MongoDB administrator.

confid's own user may only insert and find in `audit_events` (no update, remove, drop or
collMod): even a compromised confid process cannot rewrite the trail through its account.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from app.domain.models import AuditAction
from app.store.database import (
    AUDIT_ACCESS_LOG,
    AUDIT_CHECKPOINTS,
    AUDIT_EVENTS,
    BRIDGES,
    BULK_RESET_ITEMS,
    BULK_RESET_JOBS,
    CONFERENCE_IDS,
    IDEMPOTENCY_KEYS,
    NOTIFICATIONS,
    USERS,
)

ROLE = "confidApp"

# What confid does to each collection, and nothing more.
ACTIONS: dict[str, list[str]] = {
    AUDIT_EVENTS: ["find", "insert", "createIndex"],
    USERS: ["find", "insert", "update", "createIndex"],
    CONFERENCE_IDS: ["find", "insert", "update", "remove", "createIndex"],
    NOTIFICATIONS: ["find", "insert", "update", "createIndex"],
    BRIDGES: ["find", "insert", "createIndex"],
    IDEMPOTENCY_KEYS: ["find", "insert", "update", "createIndex"],
    AUDIT_CHECKPOINTS: ["find", "insert", "createIndex"],
    AUDIT_ACCESS_LOG: ["find", "insert", "createIndex"],
    BULK_RESET_JOBS: ["find", "insert", "update", "createIndex"],
    # remove: the items of a job that lost an idempotency race are dropped
    BULK_RESET_ITEMS: ["find", "insert", "update", "remove", "createIndex"],
}

_TEXT = {"bsonType": "string"}
_OPTIONAL_TEXT = {"bsonType": ["string"]}
AUDIT_EVENTS_VALIDATOR: dict[str, Any] = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": [
            "_id", "sequence", "occurredAt", "action", "outcome", "errorCodes", "actor",
            "operationId", "previousHash", "hash",
        ],
        "properties": {
            "_id": {"bsonType": ["int", "long"], "minimum": 1},
            "sequence": {"bsonType": ["int", "long"], "minimum": 1},
            "occurredAt": {"bsonType": "date"},
            "action": {"enum": [action.value for action in AuditAction]},
            "outcome": {"enum": ["SUCCESS", "REJECTED"]},
            "errorCodes": {"bsonType": "array", "items": _TEXT},
            "actor": {
                "bsonType": "object",
                "required": ["name", "role"],
                "properties": {
                    "name": _TEXT,
                    "role": {"enum": ["ADMIN", "HELPDESK", "AUDITOR", "SYSTEM"]},
                    "issuer": _TEXT,
                    "subject": _TEXT,
                    "displayName": _TEXT,
                },
            },
            "userId": _OPTIONAL_TEXT,
            "bridgeId": _OPTIONAL_TEXT,
            "previousConferenceId": _OPTIONAL_TEXT,
            "newConferenceId": _OPTIONAL_TEXT,
            "sourceIp": _OPTIONAL_TEXT,
            "userAgent": _OPTIONAL_TEXT,
            "requestId": _OPTIONAL_TEXT,
            "reason": {"bsonType": "string", "maxLength": 500},
            "recipients": {"bsonType": "array", "items": _TEXT},
            "toNonPrimary": {"bsonType": "bool"},
            "operationId": _TEXT,
            "incidentId": _OPTIONAL_TEXT,
            "summary": _OPTIONAL_TEXT,
            "previousHash": {"bsonType": "string", "pattern": "^[0-9a-f]{64}$"},
            "hash": {"bsonType": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    }
}  # fmt: skip


def privileges(database: str) -> list[dict[str, Any]]:
    """The role's privileges: per collection, only the actions confid performs."""
    return [
        {"resource": {"db": database, "collection": name}, "actions": actions}
        for name, actions in ACTIONS.items()
    ]


async def provision(admin_url: str, database: str, user: str, password: str) -> list[str]:
    """Create or update the role, the user and the validator; returns what was done."""
    from pymongo import AsyncMongoClient
    from pymongo.errors import OperationFailure

    done: list[str] = []
    client: Any = AsyncMongoClient(admin_url, serverSelectionTimeoutMS=5000)
    try:
        db = client[database]
        existing = set(await db.list_collection_names())
        for name in ACTIONS:
            if name not in existing:
                await db.create_collection(name)
                done.append(f"created collection {name}")
        await db.command("collMod", AUDIT_EVENTS, validator=AUDIT_EVENTS_VALIDATOR,
                         validationLevel="strict", validationAction="error")  # fmt: skip
        done.append(f"applied the $jsonSchema validator to {AUDIT_EVENTS}")
        try:
            await db.command("createRole", ROLE, privileges=privileges(database), roles=[])
            done.append(f"created role {ROLE}")
        except OperationFailure:
            await db.command("updateRole", ROLE, privileges=privileges(database), roles=[])
            done.append(f"updated role {ROLE}")
        try:
            await db.command("createUser", user, pwd=password, roles=[ROLE])
            done.append(f"created user {user}")
        except OperationFailure:
            await db.command("updateUser", user, pwd=password, roles=[ROLE])
            done.append(f"updated user {user}")
    finally:
        await client.close()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mongo-provision", description=__doc__)
    parser.add_argument("--admin-url", required=True, help="MongoDB URL of an administrator")
    parser.add_argument("--database", default="confid", help="confid's database")
    parser.add_argument("--user", default="confid", help="the user confid connects as")
    parser.add_argument(
        "--password-file", type=Path, required=True, help="file holding that user's password"
    )
    args = parser.parse_args(argv)
    password = args.password_file.read_text(encoding="utf-8").strip()
    if len(password) < 12:
        parser.error("the password must have at least 12 characters")
    try:
        for line in asyncio.run(provision(args.admin_url, args.database, args.user, password)):
            print(line)
    except Exception as exc:
        print(f"provisioning failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"confid should now connect as {args.user!r} (authSource={args.database}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ceiling: a bare Starlette app serving the bench's reads and writes from the same store.

No GraphQL, no services, no domain objects: parse the JSON body, check the bearer token's
hash, run the one query a hand-written endpoint would run against the same collections
(same documents, same indexes: `app.store.indexes.ensure_indexes`), and answer the same JSON
shape as confid's GraphQL response. What confid costs above this is its own overhead.

`POST /reset` is the minimal-writes ceiling of `resetConferenceId`: one user update (drawn
again only if the random ID is another user's), one audit insert (next sequence, SHA-256
over the entry, same document shape) and one notification insert, nothing else (no lock,
no registry, no recovery bookkeeping, no signature).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.errors import DuplicateKeyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.store.database import AUDIT_EVENTS, NOTIFICATIONS, USERS, Database

_NO_LOCK = {"lock": 0}
_CHANGED_BODY = (
    "Hello {name},\n\nYour audio-conferencing conference ID has changed.\n\n"
    "New conference ID: {cid}\nToll number: +14255550100\nToll-free number: +18005550199\n\n"
    "Your old conference ID no longer works. Reschedule meetings that carry the old ID.\n"
)


def _global_id(kind: str, raw: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{raw}".encode()).decode().rstrip("=")


def _decode_id(global_id: str) -> str:
    text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return text.partition(":")[2]


def _cursor(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _iso(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.isoformat()


def _user(doc: dict[str, Any]) -> dict[str, Any]:
    audio = doc.get("audio")
    return {
        "id": _global_id("User", doc["_id"]),
        "displayName": doc["displayName"],
        "email": doc["email"],
        "audioConferencing": (
            {"conferenceId": audio["conferenceId"], "assignedAt": _iso(audio["assignedAt"])}
            if audio
            else None
        ),
    }


def _event(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _global_id("AuditEvent", doc["_id"]),
        "sequence": doc["sequence"],
        "occurredAt": _iso(doc["occurredAt"]),
        "action": doc["action"],
        "outcome": doc["outcome"],
        "errorCodes": doc.get("errorCodes", []),
        "previousConferenceId": doc.get("previousConferenceId"),
        "newConferenceId": doc.get("newConferenceId"),
        "actor": {"name": doc["actor"]["name"], "role": doc["actor"]["role"]},
        "reason": doc.get("reason"),
        "previousHash": doc["previousHash"],
        "hash": doc["hash"],
    }


def token_hashes(tokens_file: Path) -> frozenset[str]:
    """The sha256 values of a confid tokens file."""
    data = tomllib.loads(tokens_file.read_text(encoding="utf-8"))
    return frozenset(str(t["sha256"]).lower() for t in data["tokens"])


def create_ceiling(database: Database, hashes: frozenset[str]) -> Starlette:
    """The bare app over an already-seeded, already-indexed database."""
    users = database.get_collection(USERS)
    events = database.get_collection(AUDIT_EVENTS)
    notes = database.get_collection(NOTIFICATIONS)
    head: list[Any] = []  # (sequence, hash) of the newest entry, read once

    def authorized(request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        digest = hashlib.sha256(token.encode()).hexdigest()
        return scheme.lower() == "bearer" and digest in hashes

    def denied() -> Response:
        return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def user(request: Request) -> Response:
        if not authorized(request):
            return denied()
        body = await request.json()
        doc = await users.find_one({"_id": _decode_id(body["id"])}, _NO_LOCK)
        return JSONResponse({"data": {"user": _user(doc) if doc else None}})

    async def user_page(request: Request) -> Response:
        if not authorized(request):
            return denied()
        first = int((await request.json())["first"])
        cursor = users.find({}, _NO_LOCK).sort([("displayNameKey", 1), ("_id", 1)])
        docs = await cursor.limit(first + 1).to_list(None)
        edges = [
            {"cursor": _cursor("users", d["displayNameKey"], d["_id"]), "node": _user(d)}
            for d in docs[:first]
        ]
        page = {
            "hasNextPage": len(docs) > first,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        return JSONResponse({"data": {"users": {"edges": edges, "pageInfo": page}}})

    async def audit_page(request: Request) -> Response:
        if not authorized(request):
            return denied()
        body = await request.json()
        first = int(body["first"])
        query = {"userId": _decode_id(body["userId"])}
        docs = await events.find(query).sort("_id", -1).limit(first + 1).to_list(None)
        edges = [{"cursor": _cursor("audit", d["_id"]), "node": _event(d)} for d in docs[:first]]
        page = {
            "hasNextPage": len(docs) > first,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        return JSONResponse({"data": {"auditEvents": {"edges": edges, "pageInfo": page}}})

    async def reset(request: Request) -> Response:
        if not authorized(request):
            return denied()
        body = await request.json()
        user_id = _decode_id(body["input"]["userId"])
        now = datetime.now(UTC).replace(microsecond=0)
        for _ in range(10):  # a random ID may be another user's (unique index): draw again
            new_id = f"{secrets.randbelow(10**7):07d}"
            try:
                await users.update_one(
                    {"_id": user_id},
                    {"$set": {"audio.conferenceId": new_id, "audio.assignedAt": now}},
                )
            except DuplicateKeyError:
                continue
            break
        if not head:
            newest = await events.find({}, {"hash": 1}).sort("_id", -1).limit(1).to_list(None)
            head.extend([int(newest[0]["_id"]), str(newest[0]["hash"])])
        sequence = head[0] + 1
        op = "op_" + secrets.token_hex(12)
        entry: dict[str, Any] = {
            "sequence": sequence,
            "occurredAt": now.isoformat(),
            "action": "RESET",
            "outcome": "SUCCESS",
            "errorCodes": [],
            "actor": {"name": "bench-admin", "role": "ADMIN"},
            "recipients": [],
            "toNonPrimary": False,
            "operationId": op,
            "previousHash": head[1],
            "userId": user_id,
            "bridgeId": "default",
            "newConferenceId": new_id,
            "reason": body["input"].get("reason"),
        }
        digest = hashlib.sha256(
            json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        await events.insert_one({**entry, "_id": sequence, "occurredAt": now, "hash": digest})
        head[:] = [sequence, digest]
        note_id = "n_" + secrets.token_hex(12)
        await notes.insert_one(
            {
                "_id": note_id,
                "kind": "CONFERENCE_ID_CHANGED",
                "to": [f"{user_id}@contoso.example"],
                "subject": "Your audio-conferencing conference ID has changed",
                "body": _CHANGED_BODY.format(name=user_id, cid=new_id),
                "conferenceId": new_id,
                "status": "RECORDED",
                "createdAt": now,
                "toPrimaryAddress": True,
                "auditSequence": sequence,
                "userId": user_id,
                "operationId": op,
            }
        )
        payload = {
            "user": {
                "id": body["input"]["userId"],
                "audioConferencing": {"conferenceId": new_id, "assignedAt": _iso(now)},
            },
            "auditEvent": {"id": _global_id("AuditEvent", sequence), "sequence": sequence},
            "notification": {"id": _global_id("Notification", note_id), "status": "RECORDED"},
            "userErrors": [],
        }
        return JSONResponse({"data": {"resetConferenceId": payload}})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/user", user, methods=["POST"]),
            Route("/users", user_page, methods=["POST"]),
            Route("/audit", audit_page, methods=["POST"]),
            Route("/reset", reset, methods=["POST"]),
        ]
    )

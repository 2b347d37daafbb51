"""Translation between stored documents and domain objects (one place for field names)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain.checkpoint import Checkpoint
from app.domain.encoding import actor_from, actor_record, from_record, json_value
from app.domain.entry import FIELDS, AuditEntry, Kind
from app.domain.models import (
    AudioConferencing,
    AuditAction,
    Bridge,
    Notification,
    NotificationKind,
    NotificationStatus,
    RequestMeta,
    User,
)
from app.domain.operation import Intent

Doc = dict[str, Any]


def utc(moment: datetime) -> datetime:
    """Stored datetimes come back naive (mongomock) or aware (pymongo): make them aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _opt(doc: Doc, key: str, value: Any) -> None:
    """Absent keys are omitted rather than stored as null (sparse indexes see null)."""
    if value is not None:
        doc[key] = value


def bridge_from(doc: Doc) -> Bridge:
    return Bridge(
        id=doc["_id"],
        name=doc["name"],
        conference_id_length=doc["conferenceIdLength"],
        default_toll_number=doc.get("defaultTollNumber"),
        default_toll_free_number=doc.get("defaultTollFreeNumber"),
        is_default=bool(doc.get("isDefault", False)),
    )


def bridge_doc(bridge: Bridge) -> Doc:
    doc: Doc = {
        "_id": bridge.id,
        "name": bridge.name,
        "conferenceIdLength": bridge.conference_id_length,
        "isDefault": bridge.is_default,
    }
    _opt(doc, "defaultTollNumber", bridge.default_toll_number)
    _opt(doc, "defaultTollFreeNumber", bridge.default_toll_free_number)
    return doc


def user_from(doc: Doc) -> User:
    audio = doc.get("audio")
    return User(
        id=doc["_id"],
        display_name=doc["displayName"],
        email=doc["email"],
        audio=(
            AudioConferencing(
                conference_id=audio["conferenceId"],
                bridge_id=audio["bridgeId"],
                assigned_at=utc(audio["assignedAt"]),
            )
            if audio
            else None
        ),
    )


def user_doc(user: User) -> Doc:
    doc: Doc = {
        "_id": user.id,
        "displayName": user.display_name,
        "displayNameKey": user.display_name.casefold(),
        "email": user.email,
        "emailKey": user.email.casefold(),
    }
    if user.audio is not None:
        doc["audio"] = audio_doc(user.audio)
    return doc


def audio_doc(audio: AudioConferencing) -> Doc:
    return {
        "conferenceId": audio.conference_id,
        "bridgeId": audio.bridge_id,
        "assignedAt": audio.assigned_at,
    }


def meta_doc(meta: RequestMeta) -> Doc:
    """Who and from where (an intent's, so recovery records the same person; an access-log
    record's): the actor as the audit entry writes it, identity keys only when known."""
    doc: Doc = {"actor": actor_record(meta.actor)}
    _opt(doc, "sourceIp", meta.source_ip)
    _opt(doc, "userAgent", meta.user_agent)
    _opt(doc, "requestId", meta.request_id)
    _opt(doc, "clientRequestId", meta.client_request_id)
    return doc


def meta_from(doc: Doc) -> RequestMeta:
    return RequestMeta(
        actor=actor_from(doc["actor"]),
        source_ip=doc.get("sourceIp"),
        user_agent=doc.get("userAgent"),
        request_id=doc.get("requestId"),
        client_request_id=doc.get("clientRequestId"),
    )


def intent_doc(intent: Intent) -> Doc:
    doc: Doc = {
        "op": intent.operation_id,
        "action": intent.action.value,
        "meta": meta_doc(intent.meta),
        "sendEmail": intent.send_email,
        "at": intent.started_at,
        "committed": intent.committed,
    }
    _opt(doc, "bridgeId", intent.bridge_id)
    _opt(doc, "new", intent.new_conference_id)
    _opt(doc, "previous", intent.previous_conference_id)
    _opt(doc, "reason", intent.reason)
    _opt(doc, "toAddress", intent.to_address)
    _opt(doc, "resendOf", intent.resend_of)
    _opt(doc, "incidentId", intent.incident_id)
    return doc


def intent_from(user_id: str, doc: Doc) -> Intent:
    return Intent(
        operation_id=doc["op"],
        action=AuditAction(doc["action"]),
        user_id=user_id,
        bridge_id=doc.get("bridgeId"),
        new_conference_id=doc.get("new"),
        previous_conference_id=doc.get("previous"),
        reason=doc.get("reason"),
        meta=meta_from(doc["meta"]),
        send_email=bool(doc["sendEmail"]),
        to_address=doc.get("toAddress"),
        started_at=utc(doc["at"]),
        committed=bool(doc.get("committed", False)),
        resend_of=doc.get("resendOf"),
        incident_id=doc.get("incidentId"),
    )


def audit_doc(entry: AuditEntry) -> Doc:
    """The stored document: the entry's fields under their names (absent ones omitted),
    the time as a BSON date, and `_id` = the sequence."""
    doc: Doc = {"_id": entry.sequence}
    for field in FIELDS:
        value = getattr(entry, field.attribute)
        if value is None:
            continue
        doc[field.name] = value if field.kind is Kind.TIME else json_value(field, entry)
    return doc


def audit_from(doc: Doc, *, strict: bool = False) -> AuditEntry:
    """The entry a stored document holds; tolerant by default (see `from_record`)."""
    return from_record({k: v for k, v in doc.items() if k != "_id"}, strict=strict)


def checkpoint_doc(cp: Checkpoint) -> Doc:
    return {
        "sequence": cp.sequence,
        "hash": cp.hash,
        "signedAt": cp.signed_at,
        "keyId": cp.key_id,
        "signature": cp.signature,
    }


def checkpoint_from(doc: Doc) -> Checkpoint:
    return Checkpoint(
        sequence=int(doc["sequence"]),
        hash=str(doc["hash"]),
        signed_at=utc(doc["signedAt"]),
        key_id=str(doc["keyId"]),
        signature=str(doc["signature"]),
    )


def notification_doc(n: Notification) -> Doc:
    doc: Doc = {
        "_id": n.id,
        "kind": n.kind.value,
        "to": list(n.to),
        "subject": n.subject,
        "body": n.body,
        "conferenceId": n.conference_id,
        "status": n.status.value,
        "createdAt": n.created_at,
        "toPrimaryAddress": n.to_primary_address,
        "auditSequence": n.audit_sequence,
        "userId": n.user_id,
        "operationId": n.operation_id,
        "attempts": n.attempts,
    }
    _opt(doc, "lastError", n.last_error)
    _opt(doc, "nextAttemptAt", n.next_attempt_at)
    _opt(doc, "sentAt", n.sent_at)
    _opt(doc, "resendOf", n.resend_of)
    return doc


def notification_from(doc: Doc) -> Notification:
    return Notification(
        id=doc["_id"],
        kind=NotificationKind(doc["kind"]),
        to=tuple(doc["to"]),
        subject=doc["subject"],
        body=doc["body"],
        conference_id=doc["conferenceId"],
        status=NotificationStatus(doc["status"]),
        created_at=utc(doc["createdAt"]),
        to_primary_address=bool(doc["toPrimaryAddress"]),
        audit_sequence=int(doc["auditSequence"]),
        user_id=doc["userId"],
        operation_id=doc["operationId"],
        # Records written before retries existed keep their reason under "error".
        last_error=doc.get("lastError", doc.get("error")),
        attempts=int(doc.get("attempts", 0)),
        next_attempt_at=utc(doc["nextAttemptAt"]) if "nextAttemptAt" in doc else None,
        sent_at=utc(doc["sentAt"]) if "sentAt" in doc else None,
        resend_of=doc.get("resendOf"),
    )

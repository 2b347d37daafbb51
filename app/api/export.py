"""GET /audit/export (JSON Lines or CSV, streamed in bounded pages) and
GET /audit/public-key (the PEM auditors pin)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from app.api.auth import authenticate, refusal, request_id_of, request_meta
from app.api.errors import BAD_REQUEST, FORBIDDEN, top_level_error
from app.api.ids import require_id
from app.domain.access import Capability
from app.domain.errors import BadRequest, Forbidden, IdentityUnavailable, Unauthenticated
from app.domain.export import (
    CSV_COLUMNS,
    FORMAT,
    checkpoint_record,
    comment_line,
    csv_row,
    csv_text,
    entry_record,
    json_line,
)
from app.domain.instants import iso_millis
from app.domain.models import AuditAction, AuditOutcome
from app.domain.reads import AuditFilter
from app.domain.signing import public_pem
from app.services.audit import ExportPlan
from app.services.container import Services
from app.services.identity import Authenticator

log = logging.getLogger("confid.export")

_FILTERS = {
    "format",
    "userId",
    "action",
    "outcome",
    "actor",
    "actorSubject",
    "from",
    "to",
    "incidentId",
}


def _time(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"`{name}` must be an ISO-8601 time such as 2026-11-29T08:00:00Z"
        ) from None


def parse_filter(request: Request) -> tuple[str, AuditFilter]:
    """The export's format and filter from the query string; BadRequest on anything odd."""
    params = request.query_params
    unknown = set(params) - _FILTERS
    if unknown:
        raise BadRequest(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    fmt = params.get("format", "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise BadRequest("`format` must be jsonl or csv.")
    try:
        action = AuditAction(params["action"]) if "action" in params else None
        outcome = AuditOutcome(params["outcome"]) if "outcome" in params else None
    except ValueError:
        raise BadRequest("`action` or `outcome` is not one of the enum values.") from None
    actor = params.get("actor")
    if actor is not None and len(actor) > 100:
        raise BadRequest("`actor` may have at most 100 characters.")
    subject = params.get("actorSubject")
    if subject is not None and len(subject) > 255:
        raise BadRequest("`actorSubject` may have at most 255 characters.")
    user = params.get("userId")
    incident = params.get("incidentId")
    if incident is not None and len(incident) > 100:
        raise BadRequest("`incidentId` may have at most 100 characters.")
    return fmt, AuditFilter(
        user_id=require_id(user, "User", "userId") if user is not None else None,
        action=action,
        outcome=outcome,
        actor=actor,
        actor_subject=subject,
        occurred_from=_time("from", params.get("from")),
        occurred_to=_time("to", params.get("to")),
        incident_id=incident,
    )


def manifest(
    plan: ExportPlan,
    fmt: str,
    key_id: str | None,
    pem: str | None,
    keys: list[str] | None = None,
    signed_from: int = 1,
) -> dict[str, object]:
    return {
        "format": FORMAT,
        "encoding": fmt,
        "exportedAt": iso_millis(plan.exported_at),
        "filter": plan.where.describe(),
        "partial": not plan.where.empty,
        "count": plan.count,
        "firstSequence": plan.first_sequence,
        "lastSequence": plan.last_sequence,
        "headSequence": plan.head_sequence,
        "headHash": plan.head_hash,
        "checkpoints": len(plan.checkpoints),
        "keyId": key_id,
        "publicKeyPem": pem,
        "publicKeysPem": keys or ([pem] if pem else []),
        "signedFromSequence": signed_from,
    }


class AuditExport:
    """The two /audit endpoints."""

    def __init__(self, services: Services, authenticator: Authenticator) -> None:
        self.services = services
        self.authenticator = authenticator

    async def export(self, request: Request) -> Response:
        request_id = request_id_of(request.scope)
        try:
            principal = await authenticate(request, self.authenticator)
            if not principal.may(Capability.READ_AUDIT):
                return JSONResponse(
                    top_level_error(
                        FORBIDDEN,
                        f"The {principal.role.value.lower()} role may not export the audit trail.",
                        request_id,
                    ),
                    status_code=403,
                )
            fmt, where = parse_filter(request)
        except (Unauthenticated, Forbidden, IdentityUnavailable) as exc:
            return refusal(exc, request_id)
        except BadRequest as exc:
            return JSONResponse(top_level_error(BAD_REQUEST, str(exc), request_id), status_code=400)
        audit = self.services.audit
        plan = await audit.plan_export(where)
        details = {**where.describe(), "format": fmt, "count": str(plan.count)}
        await audit.record_access(request_meta(request, principal), "export", details)
        signer = audit.signer
        keys = audit.public_keys() or {}
        head = manifest(
            plan,
            fmt,
            signer.key_id if signer else None,
            public_pem(signer.public) if signer else None,
            [public_pem(k) for k in keys.values()],
            audit.signed_from,
        )
        stamp = plan.exported_at.strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(
            self._lines(plan, fmt, head),
            media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
            headers={
                "Content-Disposition": f'attachment; filename="confid-audit-{stamp}.{fmt}"',
                "X-Request-Id": request_id,
                "Cache-Control": "no-store",
            },
        )

    async def _lines(
        self, plan: ExportPlan, fmt: str, head: dict[str, object]
    ) -> AsyncIterator[str]:
        written = 0
        if fmt == "csv":
            yield comment_line("manifest", head)
            for cp in plan.checkpoints:
                yield comment_line("checkpoint", checkpoint_record(cp))
            yield csv_text(CSV_COLUMNS)
            async for entry in self.services.audit.export_entries(plan):
                written += 1
                yield csv_text(csv_row(entry))
            yield comment_line("end", {"count": written})
        else:
            yield json_line("manifest", head)
            for cp in plan.checkpoints:
                yield json_line("checkpoint", checkpoint_record(cp))
            async for entry in self.services.audit.export_entries(plan):
                written += 1
                yield json_line("entry", entry_record(entry))
            yield json_line("end", {"count": written})
        if written != plan.count:
            log.warning("export wrote %d entries, planned %d", written, plan.count)

    async def public_key(self, request: Request) -> Response:
        signer = self.services.audit.signer
        if signer is None:
            return PlainTextResponse("audit signing is not configured\n", status_code=404)
        return PlainTextResponse(public_pem(signer.public), headers={"X-Key-Id": signer.key_id})

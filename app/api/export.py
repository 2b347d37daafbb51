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
    checkpoint_record,
    comment_line,
    csv_row,
    csv_text,
    entry_record,
    json_line,
)
from app.domain.export_seal import ExportHeader, ExportTally, end_record
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
    header: ExportHeader, pem: str | None, keys: list[str] | None = None
) -> dict[str, object]:
    """The first record: what the export holds (the members its seal signs again at the
    end) and the public keys."""
    return {
        **header.record(),
        "publicKeyPem": pem,
        "publicKeysPem": keys or ([pem] if pem else []),
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
        header = audit.export_header(plan, fmt)
        head = manifest(
            header,
            public_pem(signer.public) if signer else None,
            [public_pem(k) for k in keys.values()],
        )
        stamp = plan.exported_at.strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(
            self._lines(plan, header, head),
            media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
            headers={
                "Content-Disposition": f'attachment; filename="confid-audit-{stamp}.{fmt}"',
                "X-Request-Id": request_id,
                "Cache-Control": "no-store",
            },
        )

    async def _lines(
        self, plan: ExportPlan, header: ExportHeader, head: dict[str, object]
    ) -> AsyncIterator[str]:
        """The file, record by record; the end record carries the seal over what was
        written."""
        audit = self.services.audit
        written = ExportTally()
        csv = header.encoding == "csv"
        record = comment_line if csv else json_line
        yield record("manifest", head)
        for cp in plan.checkpoints:
            yield record("checkpoint", checkpoint_record(cp))
        if csv:
            yield csv_text(CSV_COLUMNS)
        async for entry in audit.export_entries(plan):
            written.add(entry.sequence, entry.hash)
            yield csv_text(csv_row(entry)) if csv else json_line("entry", entry_record(entry))
        statement, signature = audit.seal_export(header, written)
        yield record("end", end_record(written.count, statement, signature))
        if written.count != plan.count:
            log.warning("export wrote %d entries, planned %d", written.count, plan.count)

    async def public_key(self, request: Request) -> Response:
        signer = self.services.audit.signer
        if signer is None:
            return PlainTextResponse("audit signing is not configured\n", status_code=404)
        return PlainTextResponse(public_pem(signer.public), headers={"X-Key-Id": signer.key_id})

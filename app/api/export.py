"""GET /audit/export (JSON Lines or CSV, streamed in bounded pages) and
GET /audit/public-key (the PEM auditors pin).

An export reads the whole (filtered) trail while it streams, so it is priced like a
verification (`SCAN` points plus 1 per 10 entries of the trail, at most half the maximum
query cost) and taken from the caller's rate-limit bucket (HTTP 429 `THROTTLED` when it
lacks them), and at most EXPORTS_AT_ONCE run in one process (HTTP 503 with `Retry-After`
past that): the capacity limit on requests in progress lets a request go once its answer
starts, and an export's work is in its answer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.auth import authenticate, refusal, request_id_of, request_meta
from app.api.capacity import Capacity
from app.api.cost import scan_points
from app.api.errors import BAD_REQUEST, FORBIDDEN, THROTTLED, top_level_error
from app.api.exchange import note_throttled
from app.api.field_costs import SCAN
from app.api.ids import require_id
from app.api.throttle import ApiLimits, retry_seconds
from app.domain.access import Capability, Principal
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

EXPORTS_AT_ONCE = 4  # exports streaming at once in one process
BUSY_RETRY_SECONDS = 5

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


class _Streamed(StreamingResponse):
    """A streamed answer that runs `done` once it has ended, however it ends (sent,
    failed, or the client went away before the first line)."""

    def __init__(self, done: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._done()


class AuditExport:
    """The two /audit endpoints."""

    def __init__(
        self,
        services: Services,
        authenticator: Authenticator,
        limits: ApiLimits | None = None,
        at_once: int = EXPORTS_AT_ONCE,
    ) -> None:
        self.services = services
        self.authenticator = authenticator
        self.limits = limits
        self.exports = Capacity(at_once, "audit exports", "exports", BUSY_RETRY_SECONDS)

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
        if not self.exports.enter():  # taken before any wait: exports arriving together count
            return self.exports.busy(request.scope)
        try:
            throttled = await self._charge(request, principal, request_id)
            if throttled is not None:
                self.exports.leave()
                return throttled
            return await self._stream(request, principal, fmt, where, request_id)
        except BaseException:
            self.exports.leave()
            raise

    async def _charge(
        self, request: Request, principal: Principal, request_id: str
    ) -> Response | None:
        """Take the export's price from the caller's bucket; the 429 when it lacks it."""
        if self.limits is None:
            return None
        limits = self.limits
        points = SCAN + scan_points(await limits.trail_length.get(), limits.max_query_cost)
        status = limits.limiter.status(principal)
        if status is not None:  # never more than the whole bucket, or it could never run
            points = min(points, status.limit)
        wait = limits.limiter.take(principal, points)
        if wait <= 0:
            return None
        note_throttled(request.scope, "token_bucket")
        retry = retry_seconds(wait)
        message = (
            f"Rate limit: an export of this trail costs {points} points, which this "
            f"token's bucket lacks; retry in {retry} s (see `rateLimit`)."
        )
        return JSONResponse(
            top_level_error(THROTTLED, message, request_id),
            status_code=429,
            headers={"Retry-After": str(retry)},
        )

    async def _stream(
        self,
        request: Request,
        principal: Principal,
        fmt: str,
        where: AuditFilter,
        request_id: str,
    ) -> Response:
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
        return _Streamed(
            self.exports.leave,
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

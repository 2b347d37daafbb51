"""Every metric confid exports, in one registry per app, and the hooks that move them.

Names follow Prometheus conventions: the `confid_` prefix, base units (seconds), `_total`
on counters. Every label takes values from a set fixed by the code (route paths, the
committed operation names or `other`, error codes, enum values), never free text from a
request, so no client can multiply the series. Counters count what this process did;
the `confid_outbox_*` and `confid_audit_*` gauges are read from the database when
scraped (see `app.telemetry.vitals`), so every process reports the same values for them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from app.api.exchange import Exchange
from app.domain.models import AuditAction, AuditOutcome, NotificationStatus
from app.services.observer import REPAIR_KINDS
from app.services.vitals import VitalSigns
from app.telemetry.operations import OTHER
from app.telemetry.vitals import VitalsCollector

# `*_created` series (when each counter began) double the series count and Prometheus does
# not read them from the text format; the process's start time is exported anyway.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Requests: most answer in milliseconds; a page of 100 users or an export takes longer.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# One database round trip: sub-millisecond on a near server, more under load.
DATABASE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

KNOWN_CODES = ("UNAUTHENTICATED", "FORBIDDEN", "QUERY_TOO_COMPLEX", "BAD_REQUEST", "INTERNAL")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TYPES = frozenset({"query", "mutation", "subscription"})
_LIMIT = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _version() -> str:
    try:
        return version("confid")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def outcome_of(status: int, codes: list[str]) -> str:
    """`ok`, `client_error` (the client's mistake or lack of rights) or `server_error`."""
    if status >= 500 or "INTERNAL" in codes:
        return "server_error"
    if status >= 400 or codes:
        return "client_error"
    return "ok"


class Metrics:
    """The metrics of one confid app (tests build many apps, each with its own registry).

    Implements `app.services.observer.Observer` (changes, emails, repairs), gives the
    store's timer (`database_timer`) and takes each finished request (`request_finished`).
    """

    def __init__(self, operations: frozenset[str]) -> None:
        self.operations = operations
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        Gauge(
            "confid_build_info", "confid's version (always 1).", ["version"], registry=registry
        ).labels(_version()).set(1)

        self.http_requests = Counter(
            "confid_http_requests",
            "HTTP requests answered, by route (the path pattern, `unmatched` for none), "
            "method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "confid_http_request_duration_seconds",
            "Time from receiving a request to the end of its response, by route.",
            ["route"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.graphql_requests = Counter(
            "confid_graphql_requests",
            "GraphQL requests by operation name (a committed example operation's name, else "
            "`other`), type (query, mutation, subscription; `unknown` when refused before "
            "parsing) and outcome (ok, client_error, server_error).",
            ["operation", "type", "outcome"],
            registry=registry,
        )
        self.graphql_duration = Histogram(
            "confid_graphql_request_duration_seconds",
            "Latency of GraphQL requests by operation name and type.",
            ["operation", "type"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.graphql_errors = Counter(
            "confid_graphql_errors",
            "Top-level GraphQL errors answered, by extensions.code.",
            ["code"],
            registry=registry,
        )
        self.throttled = Counter(
            "confid_throttled_requests",
            "Requests refused by a rate limit, by the limit's name.",
            ["limit"],
            registry=registry,
        )
        self.changes = Counter(
            "confid_conference_id_changes",
            "Audited conference-ID operations appended to the trail by this process (assign, "
            "set, reset, send info; recovery included), by action and outcome (SUCCESS, "
            "REJECTED).",
            ["action", "outcome"],
            registry=registry,
        )
        self.notifications = Counter(
            "confid_notifications",
            "Emails entering a status in this process: recorded (PENDING, RECORDED, "
            "SUPPRESSED) or after a hand-over attempt (SENT, RETRYING, FAILED).",
            ["status"],
            registry=registry,
        )
        self.repairs = Counter(
            "confid_recovery_repairs",
            "Repairs made by recovery: changes finished or undone, ID reservations released, "
            "stuck emails delivered, interrupted hand-overs failed (delivery unknown).",
            ["kind"],
            registry=registry,
        )
        self.database_duration = Histogram(
            "confid_db_operation_duration_seconds",
            "Latency of database round trips by collection and operation.",
            ["collection", "operation"],
            buckets=DATABASE_BUCKETS,
            registry=registry,
        )
        # Every series of a small fixed set exists from the start, at 0, so rates and
        # alerts work before the first event.
        for action in AuditAction:
            for outcome in AuditOutcome:
                self.changes.labels(action.value, outcome.value)
        for status in NotificationStatus:
            self.notifications.labels(status.value)
        for kind in REPAIR_KINDS:
            self.repairs.labels(kind)
        for code in KNOWN_CODES:
            self.graphql_errors.labels(code)
        self.vitals: VitalsCollector | None = None

    # --- the services' observer -------------------------------------------------------

    def audited(self, action: AuditAction, outcome: AuditOutcome) -> None:
        self.changes.labels(action.value, outcome.value).inc()

    def email_status(self, status: NotificationStatus) -> None:
        self.notifications.labels(status.value).inc()

    def repaired(self, kind: str, count: int = 1) -> None:
        self.repairs.labels(kind if kind in REPAIR_KINDS else OTHER).inc(count)

    # --- the store's timer --------------------------------------------------------------

    def database_timer(self, collection: str, operation: str) -> Callable[[float], None]:
        """The function that records one round trip's seconds (bound once per pair)."""
        return self.database_duration.labels(collection, operation).observe

    # --- requests -----------------------------------------------------------------------

    def refused(self, limit: str) -> None:
        """Count one refusal by `limit` outside an HTTP request's line (a websocket)."""
        self.throttled.labels(limit if _LIMIT.fullmatch(limit) else OTHER).inc()

    def request_finished(
        self, route: str, method: str, status: int, seconds: float, exchange: Exchange
    ) -> None:
        """Count one answered request (the middleware calls this once per request)."""
        method = method if method in _METHODS else OTHER
        self.http_requests.labels(route, method, str(status)).inc()
        self.http_duration.labels(route).observe(seconds)
        if exchange.throttled is not None:
            limit = exchange.throttled
            self.throttled.labels(limit if _LIMIT.fullmatch(limit) else OTHER).inc()
        if not exchange.graphql:
            return
        name = exchange.operation_name
        operation = name if name is not None and name in self.operations else OTHER
        kind = exchange.operation_type or "unknown"
        kind = kind if kind in _TYPES else "unknown"
        outcome = outcome_of(status, exchange.error_codes)
        self.graphql_requests.labels(operation, kind, outcome).inc()
        self.graphql_duration.labels(operation, kind).observe(seconds)
        for code in exchange.error_codes:
            self.graphql_errors.labels(code if _CODE.fullmatch(code) else OTHER).inc()

    # --- the database-backed gauges -------------------------------------------------------

    def watch_vitals(self, read: Callable[[], Awaitable[VitalSigns]], ttl: float) -> None:
        """Export the outbox and audit gauges, read with `read` at most every `ttl` s."""
        self.vitals = VitalsCollector(read, ttl)
        self.registry.register(self.vitals)

    async def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The text a scrape gets (Prometheus or OpenMetrics, as `accept` asks), and its
        content type; the database-backed gauges are refreshed first if stale."""
        if self.vitals is not None:
            await self.vitals.refresh()
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

"""`confid audit ...`: the trail online -- events, evidence, checkpoints, key, access log.

The file commands (export, verify, keygen) live in `app.cli.audit_files`.
"""

from __future__ import annotations

import shlex
from typing import Any

import click

from app.cli.errors import Refused
from app.cli.output import when
from app.cli.pages import fetch, more_hint, page_options
from app.cli.session import Session, connection_options, refusal
from app.cli.users import not_found, user_id
from app.domain.models import AuditAction, AuditOutcome


def _choice(values: type[AuditAction] | type[AuditOutcome]) -> click.Choice[str]:
    return click.Choice([v.value for v in values], case_sensitive=False)


def filter_options(function: Any) -> Any:
    """The filters of `auditEvents` (and of GET /audit/export), all combined with AND."""
    options = [
        click.option("--user", metavar="USER", help="Only this user's entries (email or id)."),
        click.option("--action", type=_choice(AuditAction), help="Only this action."),
        click.option("--outcome", type=_choice(AuditOutcome), help="Only this outcome."),
        click.option(
            "--actor",
            metavar="NAME",
            help="Only entries by this actor name (a token's name, or a person's username).",
        ),
        click.option(
            "--actor-subject",
            metavar="SUB",
            help="Only entries by this signed-in person (their OpenID Connect subject, `sub`).",
        ),
        click.option(
            "--from", "from_", metavar="TIME", help="From this ISO-8601 time (inclusive)."
        ),
        click.option("--to", metavar="TIME", help="Up to this ISO-8601 time (exclusive)."),
        click.option(
            "--incident",
            metavar="INCIDENT",
            help="Only one bulk reset's entries (its incident id, e.g. inc_...).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def event_filters(session: Session, **given: str | None) -> dict[str, str | None]:
    """The filter options as GraphQL variables (USER resolved to an id)."""
    user, action, outcome = given.get("user"), given.get("action"), given.get("outcome")
    return {
        "userId": user_id(session, user) if user else None,
        "action": action.upper() if action else None,
        "outcome": outcome.upper() if outcome else None,
        "actor": given.get("actor"),
        "actorSubject": given.get("actor_subject"),
        "from": given.get("from_"),
        "to": given.get("to"),
        "incidentId": given.get("incident"),
    }


def _actor(actor: dict[str, Any]) -> str:
    return f"{actor['name']} ({actor['role'].lower()})"


def _detail(event: dict[str, Any]) -> str | None:
    parts = []
    if event.get("summary"):
        parts.append(event["summary"])
    if event.get("errorCodes"):
        parts.append(",".join(event["errorCodes"]))
    if event.get("recipients"):
        parts.append("to " + ", ".join(event["recipients"]))
    if event.get("reason"):
        parts.append(event["reason"])
    return "; ".join(parts) or None


@click.group(
    short_help="The audit trail: events, export, verify, ...",
    epilog="""\b
Examples:
  confid audit events --user adele.garcia.22@contoso.example
  confid audit events --incident inc_6b0f38cab9e9baef4ed8af65 --all --json
  confid audit key --pem > confid.pem
  confid audit export --out trail.jsonl
  confid audit verify trail.jsonl --public-key confid.pem     # offline, no token
  confid audit verify                                         # the server checks its trail
  confid audit checkpoints list
`confid audit COMMAND --help` shows each command's options and more examples.""",
)
def audit() -> None:
    """The audit trail: events, evidence, export, verify, checkpoints, key, access log."""


@audit.command(
    "events",
    short_help="Audit entries, newest first, filtered.",
    epilog="""\b
Examples:
  confid audit events --user adele.garcia.22@contoso.example
  confid audit events --action RESET --outcome REJECTED --from 2026-11-01T00:00:00Z
  confid audit events --actor alice --all --json > events.json
  confid audit events --incident inc_6b0f38cab9e9baef4ed8af65 --all
Admin and auditor. Newest first; the reading itself is recorded (confid audit access-log).""",
)
@filter_options
@page_options
@connection_options
def events(first: int | None, after: str | None, every_page: bool, **filters: str | None) -> None:
    """Audit entries, newest first, filtered (ListAuditEvents)."""
    session = Session.current()
    data = fetch(
        session,
        "ListAuditEvents",
        event_filters(session, **filters),
        ("auditEvents",),
        first=first,
        after=after,
        every_page=every_page,
        noun="audit entries",
    )

    def render() -> None:
        connection = data["auditEvents"]
        rows = []
        for edge in connection["edges"]:
            e = edge["node"]
            user = e.get("user") or {}
            change = None
            if e["previousConferenceId"] or e["newConferenceId"]:
                change = f"{e['previousConferenceId'] or '—'} → {e['newConferenceId'] or '—'}"
            rows.append(
                [
                    e["sequence"],
                    when(e["occurredAt"]),
                    e["action"],
                    e["outcome"],
                    user.get("displayName") or e.get("userRef"),
                    change,
                    e["actor"]["name"],
                    _detail(e),
                ]
            )
        given = " ".join(
            f"--{name.rstrip('_')} {shlex.quote(value)}" for name, value in filters.items() if value
        )
        session.output.table(
            ["Seq", "When", "Action", "Outcome", "User", "ID change", "Actor", "Detail"],
            rows,
            title=f"{connection['totalCount']} matching entries",
            caption=more_hint(connection, f"confid audit events {given}".strip()),
        )

    session.emit_or(data, render)


@audit.command(
    "evidence",
    short_help="One user's evidence pack, verified.",
    epilog="""\b
Examples:
  confid audit evidence adele.garcia.22@contoso.example
  confid audit evidence VXNlcjp1MDAwMjI --json > evidence.json
Admin and auditor. Exits 1 when an entry or the chain does not verify.""",
)
@click.argument("user", metavar="USER")
@connection_options
def evidence(user: str) -> None:
    """Everything about one user's conference ID, verified, in one document (UserEvidence)."""
    session = Session.current()
    data = session.run("UserEvidence", {"userId": user_id(session, user)})
    pack = data["userEvidence"]
    if pack is None:
        not_found(session, data, user)

    def render() -> None:
        out = session.output
        chain = pack["chain"]
        out.fields(
            [
                ("User", f"{pack['user']['displayName']} <{pack['user']['email']}>"),
                ("Conference ID", pack["currentConferenceId"] or "not enabled"),
                ("Generated at", pack["generatedAt"]),
                ("Entries verified", "yes" if pack["allEntriesVerified"] else "NO"),
                ("Chain", "OK" if chain["ok"] else f"INVALID at {chain['firstInvalidSequence']}"),
            ]
        )
        out.table(
            ["Seq", "When", "Action", "Outcome", "From", "To", "Actor", "Verified"],
            [
                [
                    e["event"]["sequence"],
                    when(e["event"]["occurredAt"]),
                    e["event"]["action"],
                    e["event"]["outcome"],
                    e["event"]["previousConferenceId"],
                    e["event"]["newConferenceId"],
                    _actor(e["event"]["actor"]),
                    "yes" if e["verified"] else f"NO: {e['problem']}",
                ]
                for e in pack["entries"]
            ],
            title="Audit entries",
        )
        out.table(
            ["Kind", "Status", "To", "Conference ID", "Created"],
            [
                [n["kind"], n["status"], ", ".join(n["to"]), n["conferenceId"], n["createdAt"]]
                for n in pack["notifications"]
            ],
            title="Emails",
        )

    session.emit_or(data, render)
    if not (pack["allEntriesVerified"] and pack["chain"]["ok"]):
        raise Refused("the evidence does not verify")


@audit.group(
    "checkpoints",
    short_help="Signed checkpoints: list, or sign one now.",
    epilog="""\b
Examples:
  confid audit checkpoints list
  confid audit checkpoints create""",
)
def checkpoints() -> None:
    """Signed checkpoints of the chain head: list them, or sign one now."""


@checkpoints.command(
    "list",
    epilog="""\b
Examples:
  confid audit checkpoints list
  confid audit checkpoints list --all --json""",
)
@page_options
@connection_options
def list_checkpoints(first: int | None, after: str | None, every_page: bool) -> None:
    """The signed checkpoints, newest first (AuditCheckpoints). Admin and auditor."""
    session = Session.current()
    data = fetch(
        session,
        "AuditCheckpoints",
        {},
        ("auditCheckpoints",),
        first=first,
        after=after,
        every_page=every_page,
        noun="checkpoints",
    )
    connection = data["auditCheckpoints"]
    session.emit_or(
        data,
        lambda: session.output.table(
            ["Sequence", "Signed at", "Key id", "Hash"],
            [
                [c["sequence"], when(c["signedAt"]), c["keyId"], c["hash"]]
                for c in (edge["node"] for edge in connection["edges"])
            ],
            caption=more_hint(connection, "confid audit checkpoints list"),
        ),
    )


@checkpoints.command("create", epilog="\b\nExample:\n  confid audit checkpoints create")
@connection_options
def create_checkpoint() -> None:
    """Sign the current head of the chain now (CreateAuditCheckpoint). Admin only."""
    session = Session.current()
    data = session.run("CreateAuditCheckpoint")
    payload = data["createAuditCheckpoint"]
    if payload["userErrors"]:
        if session.json_mode:
            session.output.emit(data)
        raise refusal(payload["userErrors"])
    cp = payload["checkpoint"]
    session.emit_or(
        data,
        lambda: session.output.line(
            f"Checkpoint at sequence {cp['sequence']} signed by key {cp['keyId']}: {cp['hash']}"
        ),
    )


@audit.command(
    "key",
    short_help="The public signing key.",
    epilog="""\b
Examples:
  confid audit key
  confid audit key --pem > confid.pem     # pin it for `confid audit verify`""",
)
@click.option("--pem", is_flag=True, help="Print only the public key (PEM), to save it.")
@connection_options
def key(pem: bool) -> None:
    """The public key that signs entries and checkpoints (AuditSigningKey)."""
    session = Session.current()
    data = session.run("AuditSigningKey")
    signing = data["auditSigningKey"]
    if session.json_mode:
        session.output.emit(data)
    if signing is None:
        raise Refused("NOT_FOUND: this confid does not sign its audit trail")
    if session.json_mode:
        return
    if pem:
        click.echo(signing["publicKeyPem"], nl=not signing["publicKeyPem"].endswith("\n"))
        return
    session.output.fields([("Key id", signing["keyId"]), ("Algorithm", signing["algorithm"])])
    session.output.line(signing["publicKeyPem"].rstrip("\n"))


@audit.command(
    "access-log",
    short_help="Who read or exported the trail.",
    epilog="""\b
Examples:
  confid audit access-log
  confid audit access-log --actor auditor-1 --all --json""",
)
@click.option("--actor", metavar="NAME", help="Only reads by this token name.")
@page_options
@connection_options
def access_log(actor: str | None, first: int | None, after: str | None, every_page: bool) -> None:
    """Who read or exported the trail, with which filters (AuditAccessLog). Admin, auditor."""
    session = Session.current()
    data = fetch(
        session,
        "AuditAccessLog",
        {"actor": actor},
        ("auditAccessLog",),
        first=first,
        after=after,
        every_page=every_page,
        noun="reads",
    )
    connection = data["auditAccessLog"]
    session.emit_or(
        data,
        lambda: session.output.table(
            ["At", "What", "Filters", "Actor", "Source IP"],
            [
                [
                    when(r["at"]),
                    r["what"],
                    ", ".join(r["filters"]),
                    _actor(r["actor"]),
                    r["sourceIp"],
                ]
                for r in (edge["node"] for edge in connection["edges"])
            ],
            caption=more_hint(connection, "confid audit access-log"),
        ),
    )

"""`confid audit export|verify|keygen`: the trail as a file, and checking it with no server.

`scripts/audit-export`, `scripts/audit-verify` and `python -m app.audit` run these same
commands. `verify FILE` needs neither a token nor a network.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
import httpx2 as httpx

from app.audit.verify import FileVerification, load_checkpoints, load_pinned_key, verify_export
from app.cli.audit import audit, event_filters, filter_options
from app.cli.errors import UsageError
from app.cli.output import Tracker
from app.cli.session import Session, connection_options
from app.domain.export import ExportFormatError, read_export
from app.domain.signing import Signer, SigningKeyError, public_pem

#: Without a terminal, `verify` writes a progress line per this many bytes read.
VERIFY_REPORT_BYTES = 4 * 1024 * 1024

# -- export ---------------------------------------------------------------------------------


def _lines(response: httpx.Response, sink: IO[str]) -> Iterator[str]:
    """Write the stream to `sink` as it arrives and yield it line by line."""
    pending = ""
    for chunk in response.iter_text():
        sink.write(chunk)
        pending += chunk
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    if pending:
        yield pending


@contextmanager
def _sink(target: str) -> Iterator[IO[str]]:
    """The export's destination: a new file, or stdout for '-'."""
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        # Opened apart from the `with` so that only opening errors become a usage error.
        handle = Path(target).open("w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    with handle:
        yield handle


def _count_entries(lines: Iterator[str], tracker: Tracker) -> dict[str, Any]:
    """Follow the export as it streams: the manifest's count is the total; count entries."""
    manifest: dict[str, Any] = {}
    try:
        for kind, value in read_export(lines):
            if kind == "manifest":
                manifest = value
                tracker.set_total(value.get("count"))
            elif kind == "entry":
                tracker.advance()
    except ExportFormatError:
        pass  # not ours to judge here: `confid audit verify` says what is wrong
    for _ in lines:  # whatever was not parsed is still written
        pass
    return manifest


@audit.command(
    "export",
    short_help="Download the trail (JSON lines or CSV).",
    epilog="""\b
Examples:
  confid audit export --out trail.jsonl
  confid audit export --format csv --user adele.garcia.22@contoso.example --out adele.csv
  confid audit export --out - | gzip > trail.jsonl.gz
Admin and auditor. Then: confid audit verify trail.jsonl --public-key confid.pem""",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON lines or CSV (RFC 4180); both verify offline.",
)
@click.option(
    "--out",
    metavar="FILE",
    help="Where to write it ('-' for stdout; default confid-audit.<format>).",
)
@click.option("--user-id", metavar="ID", hidden=True, help="Same as --user (older spelling).")
@filter_options
@connection_options
def export(export_format: str, out: str | None, user_id: str | None, **filters: str | None) -> None:
    """Download the trail (or the filtered part of it) from GET /audit/export.

    The file starts with a manifest (count, chain head, signing keys), then the signed
    checkpoints and entries, and ends with an `end` line, so a cut-off file is noticed.
    """
    session = Session.current()
    if user_id and filters.get("user"):
        raise UsageError("give --user or --user-id, not both")
    filters["user"] = filters.get("user") or user_id
    params = {k: v for k, v in event_filters(session, **filters).items() if v is not None}
    target = out or f"confid-audit.{export_format}"
    to_stdout = target == "-"
    with (
        session.stream("/audit/export", {"format": export_format, **params}) as response,
        _sink(target) as sink,
        session.output.progress("exporting", "entries", every=1000) as tracker,
    ):
        manifest = _count_entries(_lines(response, sink), tracker)
    summary = {
        "out": target,
        "format": export_format,
        "count": manifest.get("count"),
        "partial": manifest.get("partial"),
        "headSequence": manifest.get("headSequence"),
        "headHash": manifest.get("headHash"),
    }
    if session.json_mode and not to_stdout:
        session.output.emit(summary)
    elif not to_stdout:
        scope = "filtered (partial) export" if manifest.get("partial") else "full export"
        session.output.line(
            f"wrote {target}: {manifest.get('count')} entries, {scope}; check it with: "
            f"confid audit verify {target} --public-key confid.pem"
        )


# -- verify ---------------------------------------------------------------------------------


def _verification_json(result: FileVerification) -> dict[str, Any]:
    """The offline verdict under the names `verifyAuditTrail` uses."""
    return {
        "ok": result.ok,
        "checked": result.checked,
        "firstInvalidSequence": result.first_invalid_sequence,
        "reason": result.reason,
        "checkpointsChecked": result.checkpoints_checked,
        "partial": result.partial,
        "sealed": result.sealed,
        "warnings": result.warnings,
    }


def _counted(handle: IO[str], tracker: Tracker) -> Iterator[str]:
    for line in handle:
        tracker.advance(len(line.encode("utf-8")))
        yield line


def _verify_file(
    session: Session,
    file: Path,
    public_key: Path | None,
    checkpoints: Path | None,
    every_signature: bool,
    require_seal: bool,
) -> None:
    try:
        pinned = load_pinned_key(public_key.read_text()) if public_key else None
        extra = []
        if checkpoints:
            with checkpoints.open(encoding="utf-8") as handle:
                extra = load_checkpoints(handle)
        size = file.stat().st_size
        with (
            file.open(encoding="utf-8", newline="") as handle,
            session.output.progress(
                f"verifying {file.name}", "bytes", total=size, every=VERIFY_REPORT_BYTES
            ) as tracker,
        ):
            result = verify_export(
                _counted(handle, tracker),
                pinned,
                extra,
                every_signature=every_signature,
                require_seal=require_seal,
            )
    except (OSError, UnicodeDecodeError, ExportFormatError, SigningKeyError) as exc:
        raise UsageError(f"cannot verify {file}: {exc}") from None
    if session.json_mode:
        session.output.emit(_verification_json(result))
    else:
        click.echo(result.render())
    if not result.ok:
        raise click.exceptions.Exit(1)


def _verify_online(session: Session, every_signature: bool) -> None:
    data = session.run("VerifyAuditTrail", {"everySignature": every_signature})
    result = data["verifyAuditTrail"]
    if session.json_mode:
        session.output.emit(data)
    elif result["ok"]:
        session.output.line(
            f"OK: {result['checked']} entries verified on the server, "
            f"{result['checkpointsChecked']} checkpoint(s) agree; head hash {result['headHash']}"
        )
    else:
        session.output.line(
            f"INVALID at sequence {result['firstInvalidSequence']}: {result['reason']}"
        )
        session.output.line(f"({result['checked']} entries verified before it)")
    if not result["ok"]:
        raise click.exceptions.Exit(1)


@audit.command(
    "verify",
    short_help="Verify an export offline, or the server's trail.",
    epilog="""\b
Examples:
  confid audit verify trail.jsonl --public-key confid.pem
  confid audit verify trail.jsonl --public-key confid.pem --checkpoints older-export.jsonl
  confid audit verify trail.jsonl --public-key confid.pem --require-seal
  confid audit verify            # ask the server to check its own trail
Exits 0 when it verifies, 1 when it does not (a missing, wrong or contradicted export
seal included), 2 when the file cannot be read.""",
)
@click.argument(
    "file", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[FILE]"
)
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PEM",
    help="confid's public key (or a bundle of current and earlier keys) to pin.",
)
@click.option(
    "--checkpoints",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Checkpoints kept from earlier exports: a shortened trail then cannot hide.",
)
@click.option(
    "--every-signature",
    is_flag=True,
    help="Check each entry's own signature too, even where a signed checkpoint vouches for it.",
)
@click.option(
    "--require-seal",
    is_flag=True,
    help="Refuse a file without an export seal (formats 1-3, whose end is not signed).",
)
@connection_options
def verify(
    file: Path | None,
    public_key: Path | None,
    checkpoints: Path | None,
    every_signature: bool,
    require_seal: bool,
) -> None:
    """Verify an export FILE offline (no server, no token), or without FILE ask the running
    confid to verify its trail (VerifyAuditTrail, admin and auditor).

    Offline it checks the hash chain, the gapless sequence, every checkpoint, the
    signatures of the entries no signed checkpoint vouches for (all of them with
    --every-signature), that the file is complete, and the export's seal: confid's signed
    statement of what the file holds, so entries cut from its end are noticed even when its
    counts were edited. It prints OK or the first bad sequence; a file written before the
    seal (format 1-3) verifies with a warning that its end is not signed.
    """
    session = Session.current()
    if file is not None:
        _verify_file(session, file, public_key, checkpoints, every_signature, require_seal)
        return
    if public_key or checkpoints or require_seal:
        raise UsageError(
            "--public-key, --checkpoints and --require-seal go with a FILE to verify offline"
        )
    _verify_online(session, every_signature)


# -- keygen ---------------------------------------------------------------------------------


@audit.command(
    "keygen",
    short_help="Make an Ed25519 signing key (offline).",
    epilog="""\b
Example:
  confid audit keygen --out confid-signing.pem
Then start confid with CONFID_SIGNING_KEY_FILE=confid-signing.pem.""",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Where to write the private key (mode 600; an existing file is never overwritten).",
)
def keygen(out: Path) -> None:
    """Make an Ed25519 signing key for confid (offline); prints its public half."""
    signer = Signer.generate()
    try:
        # O_EXCL: never overwrite a key; 0o600 from the start, never readable by others.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{out} exists; not overwriting a key") from None
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(signer.private_pem())
    click.echo(public_pem(signer.public), nl=False)
    click.echo(f"key id {signer.key_id}; private key in {out} (keep it out of MongoDB)")

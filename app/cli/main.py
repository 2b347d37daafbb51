"""The `confid` command: the root group, `whoami`, and the console-script entry point.

Each command group lives in its own module; a new concern (bulk resets, jobs) is a new
module registered here.
"""

from __future__ import annotations

import os
import sys

import click

from app.cli import user_changes  # noqa: F401 - registers set, reset, enable, send-info
from app.cli.audit import audit
from app.cli.audit_files import export, keygen, verify
from app.cli.bridges import bridges
from app.cli.bulk import bulk_reset
from app.cli.client import USER_AGENT
from app.cli.conference_ids import check, lookup
from app.cli.errors import ExitCode
from app.cli.jobs import jobs
from app.cli.notifications import notifications
from app.cli.session import Session, connection_options
from app.cli.users import user, users

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_CODES = """\b
Exit codes:
  0  done
  1  refused (userErrors, printed with code, rule and the server's message), or not found
  2  usage: a bad argument or value (the server's BAD_REQUEST too)
  3  authentication or authorization: no token, unknown token (401), role not allowed
  4  confid unreachable, or not able to serve now (502/503/504)
  5  confid failed on its side (INTERNAL; the request id is printed)"""


@click.group(
    context_settings=CONTEXT,
    epilog=f"""\b
Examples:
  export CONFID_URL=http://127.0.0.1:8000 CONFID_TOKEN=...   # or --token-file FILE
  confid user get adele.garcia.22@contoso.example
  confid user reset adele.garcia.22@contoso.example --reason "ID was shared publicly"
  confid audit events --user adele.garcia.22@contoso.example --json
  confid bulk-reset --ids-file leaked-ids.txt --reason "INC-4711: invite forwarded"

{EXIT_CODES}""",
)
@click.version_option(package_name="confid", message="%(prog)s %(version)s")
@connection_options
def cli() -> None:
    """Manage audio-conferencing conference IDs on a running confid.

    The token comes from CONFID_TOKEN or from the file named by --token-file; it is never
    an argument, so it never shows in `ps`. Output is a table for people, or JSON with
    --json. `confid COMMAND --help` shows each command's options and examples.
    """


@cli.command(
    "whoami",
    short_help="Who the token is: name and role.",
    epilog="\b\nExamples:\n  confid whoami\n  confid whoami --json",
)
@connection_options
def whoami() -> None:
    """Who the token identifies: its name (recorded as the actor) and role (Viewer)."""
    session = Session.current()
    data = session.run("Viewer")
    viewer = data["viewer"]
    session.emit_or(
        data,
        lambda: session.output.line(
            f"{viewer['name']} ({viewer['role'].lower()}) at {session.url}"
        ),
    )


audit.add_command(export)
audit.add_command(verify)
audit.add_command(keygen)
for command in (user, users, check, lookup, bridges, notifications, audit, bulk_reset, jobs):
    cli.add_command(command)


def run(argv: list[str] | None = None, prog_name: str = "confid") -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    try:
        code = cli.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("\nconfid: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader went away (`confid ... | head`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    return code if isinstance(code, int) else ExitCode.OK


__all__ = ["USER_AGENT", "cli", "run"]

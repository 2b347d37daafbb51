"""The CLI's exit codes and the errors that end a command with one of them.

CliError (click.ClickException)
├── Refused         1  the server refused (userErrors), or what was asked for is not there
├── UsageError      2  a bad argument, or the server answered BAD_REQUEST
├── AuthError       3  no token, unknown token (401 / UNAUTHENTICATED), role (FORBIDDEN)
├── Unreachable     4  no answer from confid, an answer that is not confid's, or 502/503/504
└── ServerError     5  confid failed on its side (INTERNAL)
"""

from __future__ import annotations

from enum import IntEnum
from typing import IO, Any

import click


class ExitCode(IntEnum):
    """What `confid` exits with; scripts branch on these."""

    OK = 0
    REFUSED = 1
    USAGE = 2
    AUTH = 3
    UNREACHABLE = 4
    SERVER_ERROR = 5


class CliError(click.ClickException):
    """Ends the command: the message goes to stderr, the exit code to the shell."""

    exit_code = ExitCode.SERVER_ERROR
    prefix = "error"

    def __init__(
        self,
        message: str,
        *,
        details: list[str] | None = None,
        document: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.details = details or []
        #: The server's answer, printed on stdout as it is under `--json`.
        self.document = document

    def show(self, file: IO[Any] | None = None) -> None:
        text = "\n".join([f"confid: {self.prefix}: {self.message}", *self.details])
        click.echo(text, err=file is None, file=file)


class Refused(CliError):
    """The server refused the change (userErrors), or the thing asked for does not exist."""

    exit_code = ExitCode.REFUSED
    prefix = "refused"


class UsageError(CliError):
    """A mistake in the command: bad value, bad id or cursor, unreadable file."""

    exit_code = ExitCode.USAGE
    prefix = "usage"


class AuthError(CliError):
    """The token is missing or unknown, or its role may not do this."""

    exit_code = ExitCode.AUTH
    prefix = "not allowed"


class Unreachable(CliError):
    """confid could not be reached, or cannot serve right now."""

    exit_code = ExitCode.UNREACHABLE
    prefix = "unreachable"


class ServerError(CliError):
    """confid failed on its side, or the answer is not a confid answer."""

    exit_code = ExitCode.SERVER_ERROR
    prefix = "server error"

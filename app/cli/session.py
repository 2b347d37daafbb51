"""One invocation's connection settings (`--url`, `--token-file`, `--json`) and its client.

The options may stand on the command (`confid users list --json`) or before it
(`confid --json users list`); a value given on the command line wins over the
environment, which wins over the default. The token is never an option: it comes from
`CONFID_TOKEN` or from the file named by `--token-file`, so it never shows in `ps`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx2 as httpx
from click.core import ParameterSource

from app.cli.client import Client
from app.cli.errors import AuthError, CliError, Refused, UsageError
from app.cli.operations import operation
from app.cli.output import Output

DEFAULT_URL = "http://127.0.0.1:8000"
TOKEN_ENV = "CONFID_TOKEN"

_META_KEY = "confid.options"
_SESSION_KEY = "confid.session"
_RANK = {
    ParameterSource.DEFAULT: 0,
    ParameterSource.DEFAULT_MAP: 0,
    ParameterSource.ENVIRONMENT: 1,
    ParameterSource.PROMPT: 2,
    ParameterSource.COMMANDLINE: 2,
}

F = TypeVar("F", bound=Callable[..., Any])


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep the strongest value seen so far for this option, from root or command."""
    assert param.name is not None
    seen: dict[str, tuple[int, Any]] = ctx.meta.setdefault(_META_KEY, {})
    source = ctx.get_parameter_source(param.name)
    rank = _RANK.get(source, 0) if source is not None else 0
    if param.name not in seen or (rank > 0 and rank >= seen[param.name][0]):
        seen[param.name] = (rank, value)
    return value


def connection_options(function: F) -> F:
    """Add `--url`, `--token-file` and `--json` to a command (or to the root group)."""
    function = click.option(
        "--json",
        "json_mode",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_remember,
        help="Print the GraphQL data as JSON on stdout, for scripts.",
    )(function)
    function = click.option(
        "--token-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        metavar="FILE",
        help=f"Read the bearer token from FILE (default: ${TOKEN_ENV}).",
    )(function)
    function = click.option(
        "--url",
        envvar="CONFID_URL",
        default=DEFAULT_URL,
        show_default=True,
        show_envvar=True,
        expose_value=False,
        callback=_remember,
        metavar="URL",
        help="Base URL of the running confid.",
    )(function)
    return function


@dataclass
class Session:
    """The settings of this invocation, and the client built from them on first use."""

    url: str = DEFAULT_URL
    token_file: Path | None = None
    json_mode: bool = False
    output: Output = field(default_factory=Output)
    _client: Client | None = None

    @classmethod
    def current(cls) -> Session:
        ctx = click.get_current_context()
        session = ctx.meta.get(_SESSION_KEY)
        if session is None:
            seen = {name: value for name, (_, value) in ctx.meta.get(_META_KEY, {}).items()}
            json_mode = bool(seen.get("json_mode", False))
            session = cls(
                url=seen.get("url") or DEFAULT_URL,
                token_file=seen.get("token_file"),
                json_mode=json_mode,
                output=Output(json_mode),
            )
            ctx.meta[_SESSION_KEY] = session
            ctx.call_on_close(session.close)
        assert isinstance(session, Session)
        return session

    def token(self) -> str:
        if self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read the token file {self.token_file}: {exc}") from None
            if not token:
                raise UsageError(f"the token file {self.token_file} is empty")
            return token
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise AuthError(
                f"no token: set {TOKEN_ENV} or pass --token-file FILE "
                "(tokens are never accepted as arguments)"
            )
        return token

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.url, self.token())
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- calls ----------------------------------------------------------------------------

    def run(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run graphql/operations/<name>.graphql and return its `data`."""
        try:
            return self.client().execute(operation(name), variables).data
        except CliError as exc:
            if self.json_mode and exc.document is not None:
                self.output.emit(exc.document)
            raise

    @contextmanager
    def stream(self, path: str, params: dict[str, str]) -> Iterator[httpx.Response]:
        """GET a streamed resource; a refusal is handled as `run` handles one."""
        try:
            with self.client().stream(path, params) as response:
                yield response
        except CliError as exc:
            if self.json_mode and exc.document is not None:
                self.output.emit(exc.document)
            raise

    def mutate(self, name: str, field_name: str, input: dict[str, Any]) -> dict[str, Any]:
        """Run a mutation; its userErrors end the command with exit code 1."""
        data = self.run(name, {"input": {k: v for k, v in input.items() if v is not None}})
        payload = data[field_name]
        if payload["userErrors"]:
            if self.json_mode:
                self.output.emit(data)
            raise refusal(payload["userErrors"], payload.get("auditEvent"))
        return data

    def emit_or(self, data: dict[str, Any], render: Callable[[], None]) -> None:
        """Under `--json` print the data; otherwise call `render`."""
        if self.json_mode:
            self.output.emit(data)
        else:
            render()


def describe_user_error(error: dict[str, Any]) -> str:
    """`CODE (rule RULE) [input.field]: message` -- the server's message, word for word."""
    code = error.get("code") or "REFUSED"
    rule = f" (rule {error['rule']})" if error.get("rule") else ""
    where = f" [{'.'.join(error['field'])}]" if error.get("field") else ""
    return f"{code}{rule}{where}: {error.get('message', '')}"


def refusal(errors: list[dict[str, Any]], audit_event: dict[str, Any] | None = None) -> Refused:
    details = [f"  {describe_user_error(e)}" for e in errors[1:]]
    if audit_event and audit_event.get("sequence") is not None:
        details.append(f"  (recorded in the audit trail as entry #{audit_event['sequence']})")
    return Refused(describe_user_error(errors[0]), details=details)

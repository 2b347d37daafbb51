"""Running `confid` against a served confid: in process with Click's runner, or the
installed console script as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from click.testing import CliRunner

from app.cli.main import cli
from tests.support.api import TOKENS, operation

#: The console script pip installed next to this interpreter (pyproject's [project.scripts]).
CONFID = Path(sys.executable).parent / "confid"
DEMO_USERS = 24  # every eighth one is not enabled


@dataclass
class Ran:
    """What one `confid` run printed and exited with."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Confid:
    """A running confid and the ways to call it."""

    url: str
    folder: Path

    def env(self, role: str | None = "admin", **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFID_")}
        env["CONFID_URL"] = self.url
        if role is not None:
            env["CONFID_TOKEN"] = TOKENS[role]
        env.update(extra)
        return env

    def run(self, *args: str, role: str | None = "admin", **extra: str) -> Ran:
        """`confid ARGS` in process (Click's runner), with the role's token in CONFID_TOKEN."""
        env: dict[str, str | None] = {"CONFID_URL": self.url, "CONFID_TOKEN": None}
        env["CONFID_TOKEN_FILE"] = None
        if role is not None:
            env["CONFID_TOKEN"] = TOKENS[role]
        env.update(extra)
        result = CliRunner().invoke(cli, list(args), env=env, prog_name="confid")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    def script(self, *args: str, role: str | None = "admin", **extra: str) -> Ran:
        """The installed `confid` console script, as a shell would run it."""
        done = subprocess.run(
            [str(CONFID), *args],
            env=self.env(role, **extra),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    def graphql(self, name: str, variables: dict[str, Any], role: str = "admin") -> Any:
        """The same operation straight over HTTP, to compare with what the CLI printed."""
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": operation(name), "variables": variables},
            headers={"Authorization": f"Bearer {TOKENS[role]}"},
            timeout=30,
        )
        return response.json()

    def users(self) -> list[dict[str, Any]]:
        data = self.graphql("ListUsers", {"first": 100})["data"]
        return [edge["node"] for edge in data["users"]["edges"]]


def no_escape_codes(*texts: str) -> bool:
    return all("\x1b" not in text for text in texts)

"""The `confid` command (app.cli.main) and the installed console script as a shell runs it:
the token only from the environment or a file, every exit code, plain output without a
terminal, live progress with one; and a CLI that imports none of confid's insides."""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import subprocess
import sys
import time
from pathlib import Path

from app.cli.main import cli
from tests.support.api import ROOT, TOKENS
from tests.support.cli import CONFID, Confid, no_escape_codes
from tests.support.served import free_port


def test_the_console_script_is_installed_and_python_m_app_cli_is_the_same(confid: Confid) -> None:
    assert CONFID.is_file()
    version = confid.script("--version", role=None)
    assert version.code == 0 and version.stdout.startswith("confid ")
    module = subprocess.run(
        [sys.executable, "-m", "app.cli", "whoami", "--json"],
        env=confid.env("helpdesk"),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert module.returncode == 0, module.stderr
    assert confid.script("whoami", "--json", role="helpdesk").stdout == module.stdout


def test_a_token_file_works_and_there_is_no_token_option(confid: Confid, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS["auditor"] + "\n")
    ran = confid.script("whoami", "--token-file", str(token_file), role=None)
    assert ran.code == 0, ran
    assert ran.stdout.startswith("auditor-1 (auditor)")
    before = confid.script("--token-file", str(token_file), "whoami", role=None)
    assert before.stdout == ran.stdout
    # The file wins over the environment: it was named on the command line.
    assert confid.script("whoami", "--token-file", str(token_file), role="admin").stdout == (
        ran.stdout
    )
    for args in (("whoami", "--token", TOKENS["admin"]), ("--token", TOKENS["admin"], "whoami")):
        refused = confid.script(*args, role=None)
        assert refused.code == 2 and "No such option" in refused.stderr, refused
    missing_file = confid.script("whoami", "--token-file", str(tmp_path / "none"), role=None)
    assert missing_file.code == 2
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert confid.script("whoami", "--token-file", str(empty), role=None).code == 2


def test_every_exit_code(confid: Confid) -> None:
    user = next(u for u in confid.users() if u["audioConferencing"])
    done = confid.script("user", "get", user["email"])
    assert done.code == 0, done
    refused = confid.script("user", "set", user["email"], "--conference-id", "0000000")
    assert refused.code == 1, refused
    assert "WEAK_PATTERN (rule SINGLE_DIGIT)" in refused.stderr
    assert confid.script("users", "list", "--first", "500").code == 2
    no_token = confid.script("whoami", role=None)
    assert no_token.code == 3 and "CONFID_TOKEN" in no_token.stderr
    unknown = confid.script("whoami", role=None, CONFID_TOKEN="not-a-token")
    assert unknown.code == 3 and "UNAUTHENTICATED" in unknown.stderr
    forbidden = confid.script("user", "reset", user["id"], role="auditor")
    assert forbidden.code == 3 and "FORBIDDEN" in forbidden.stderr
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = confid.script("whoami", CONFID_URL=nowhere)
    assert unreachable.code == 4 and nowhere in unreachable.stderr
    not_confid = confid.script("whoami", CONFID_URL=f"{confid.url}/nothing-here")
    assert not_confid.code == 4
    assert confid.script("whoami", CONFID_URL="ftp://127.0.0.1").code == 2
    for ran in (done, refused, no_token, unknown, forbidden, unreachable):
        assert no_escape_codes(ran.stdout, ran.stderr)


def test_json_errors_are_the_servers_document(confid: Confid) -> None:
    ran = confid.script("user", "reset", "VXNlcjp1MDAwMDE", "--json", role="auditor")
    assert ran.code == 3
    [error] = __import__("json").loads(ran.stdout)["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_help_everywhere_has_examples() -> None:
    from click.testing import CliRunner

    def walk(command: object, path: tuple[str, ...]) -> list[tuple[object, tuple[str, ...]]]:
        found = [(command, path)]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, (*path, name))
        return found

    commands = walk(cli, ())
    assert len(commands) > 20
    groups = [path for command, path in commands if hasattr(command, "commands")]
    assert {(), ("user",), ("users",), ("jobs",), ("audit",)} <= set(groups)
    for _command, path in commands:
        done = CliRunner().invoke(cli, [*path, "--help"], prog_name="confid")
        assert done.exit_code == 0, (path, done.output)
        # Groups too: an "Examples:" section that runs this very command (or its subcommands).
        heading = re.search(r"^  Examples?:$", done.stdout, re.MULTILINE)
        assert heading is not None, f"`confid {' '.join(path)} --help` shows no examples"
        examples = done.stdout[heading.end() :]
        assert re.search(rf"^    {re.escape(' '.join(('confid', *path)))}\b", examples, re.M), (
            path,
            examples,
        )
        assert "--token " not in done.stdout
        # Each example names commands and options that exist (parsed up to --help).
        joined = re.sub(r"\\\n\s*", " ", examples)  # a line continued with a backslash
        for line in re.findall(r"^    confid (.*)$", joined, re.M):
            words = shlex.split(line.split(" #")[0].split(" > ")[0])
            parsed = CliRunner().invoke(cli, [*words, "--help"], prog_name="confid")
            assert parsed.exit_code == 0, (path, line, parsed.output)
    # and the installed script shows the same top-level help
    top = subprocess.run([str(CONFID), "--help"], capture_output=True, text=True, check=True)
    assert "Exit codes:" in top.stdout and "--token-file FILE" in top.stdout


def test_progress_is_live_on_a_terminal(confid: Confid) -> None:
    """Under a pseudo-terminal Rich draws the bar (cursor codes) instead of plain lines."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(CONFID), "users", "list", "--all", "--first", "5"],
        env={**confid.env("admin"), "TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    os.close(main)
    assert process.wait(timeout=30) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in screen  # the live display: colours and cursor movement
    assert "fetching: 5 users" not in screen  # no plain progress lines on a terminal
    assert "Adele" in screen or "@contoso.example" in screen


def test_the_cli_imports_no_service_store_or_api_module() -> None:
    code = "import sys, app.cli.main; print('\\n'.join(sorted(sys.modules)))"
    modules = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    forbidden = [
        m
        for m in modules
        if m.split(".")[:2] in (["app", "services"], ["app", "store"], ["app", "api"])
        or m in ("app.main", "strawberry", "pymongo", "starlette")
    ]
    assert forbidden == []

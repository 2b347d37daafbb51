"""scripts/_assets.sh on a machine without Node.js: it tries Node.js from PyPI, and when that
fails too it says so, succeeds, and builds nothing (GraphiQL then loads from a CDN)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.api import ROOT

TOOLS = ("cat", "cut", "sha256sum")  # what the script needs besides Node.js


def test_without_node_it_tries_pypi_then_says_so_and_builds_nothing(tmp_path: Path) -> None:
    root = tmp_path / "confid"
    (root / "scripts").mkdir(parents=True)
    for name in ("_assets.sh", "_node.sh"):
        shutil.copy(ROOT / "scripts" / name, root / "scripts" / name)
    shutil.copytree(ROOT / "web", root / "web", ignore=shutil.ignore_patterns("node_modules"))
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    python = venv_bin / "python"  # a pip that cannot reach PyPI
    python.write_text("#!/bin/sh\necho 'pip: no network' >&2\nexit 1\n", encoding="utf-8")
    python.chmod(0o755)
    tools = tmp_path / "bin"  # coreutils, no node, no npm
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        os.symlink(found, tools / tool)
    result = subprocess.run(
        ["/bin/bash", "-c", f'set -euo pipefail; ROOT="{root}"; source scripts/_assets.sh'],
        cwd=root,
        env={"PATH": f"{venv_bin}:{tools}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "installing Node.js into .venv from PyPI" in result.stderr
    assert "could not install Node.js from PyPI" in result.stderr
    assert "public CDN" in result.stderr
    assert not (root / "app").exists()

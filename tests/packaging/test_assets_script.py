"""scripts/_assets.sh without Node.js: one line saying so, success, and nothing built."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.api import ROOT


def test_without_node_the_script_says_so_and_builds_nothing(tmp_path: Path) -> None:
    root = tmp_path / "confid"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "_assets.sh").write_text(
        (ROOT / "scripts" / "_assets.sh").read_text(encoding="utf-8"), encoding="utf-8"
    )
    empty_path = tmp_path / "bin"  # no node, no npm
    empty_path.mkdir()
    result = subprocess.run(
        ["/bin/bash", "-c", f'set -euo pipefail; ROOT="{root}"; source scripts/_assets.sh'],
        cwd=root,
        env={"PATH": str(empty_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "Node.js not found" in result.stderr
    assert "public CDN" in result.stderr
    assert not (root / "app").exists()

"""Installing confid as scripts/run and scripts/test do prints no warning box, and the
installed confid is the checkout itself (code changes are picked up without reinstalling)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.api import ROOT


def test_an_editable_install_is_quiet_and_points_at_the_checkout(tmp_path: Path) -> None:
    # A venv of its own (pip drives it from outside): this test's .venv is never touched.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "-e",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for box in ("Editable installation", "!!", "*" * 20):
        assert box not in output, output
    [pth] = venv.glob("lib/python*/site-packages/__editable__.confid-*.pth")
    assert pth.read_text().split() == [str(ROOT)]
    where = subprocess.run(
        [str(python), "-c", "import app; print(app.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: the import must come through the .pth line
        check=True,
    )
    assert where.stdout.strip() == str(ROOT / "app" / "__init__.py")

"""Exports written before the actor named the person (format 2, committed as made by that
release) still read and verify, online-equivalent, with today's reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.audit.verify import verify_export
from app.domain.export import FORMAT, READABLE_FORMATS, ExportFormatError, read_export
from app.domain.signing import load_public_pem
from tests.support.api import ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PUBLIC_KEY = FIXTURES / "format2-public.pem"
FORMAT2 = [FIXTURES / "format2-trail.jsonl", FIXTURES / "format2-trail.csv"]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_the_current_format_is_3_and_older_ones_stay_readable() -> None:
    assert FORMAT == "confid-audit-export/3"
    assert set(READABLE_FORMATS) == {f"confid-audit-export/{n}" for n in (1, 2, 3)}


@pytest.mark.parametrize("path", FORMAT2, ids=lambda p: p.suffix)
def test_a_format_2_export_still_verifies(path: Path) -> None:
    text = lines(path)
    assert "confid-audit-export/2" in text[0]
    result = verify_export(text, load_public_pem(PUBLIC_KEY.read_text()))
    assert result.ok, result.render()
    assert (result.checked, result.checkpoints_checked) == (9, 2)
    actors = [v[1].actor for k, v in read_export(text) if k == "entry"]
    assert {(a.issuer, a.subject, a.display_name) for a in actors} == {(None, None, None)}


@pytest.mark.parametrize("path", FORMAT2, ids=lambda p: p.suffix)
def test_the_offline_verifier_says_ok_for_a_format_2_file(path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "app.audit", "verify", str(path), "--public-key", str(PUBLIC_KEY)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK: 9 entries verified")


def test_an_edited_format_2_file_is_still_caught() -> None:
    text = lines(FORMAT2[0])
    edited = [line.replace('"reason":"r1"', '"reason":"r7"') for line in text]
    assert edited != text
    result = verify_export(edited, load_public_pem(PUBLIC_KEY.read_text()))
    assert not result.ok and "edited" in (result.reason or "")


def test_a_later_format_is_refused_not_misread() -> None:
    manifest = json.loads(lines(FORMAT2[0])[0])
    manifest["format"] = "confid-audit-export/4"
    with pytest.raises(ExportFormatError, match="unknown export format"):
        list(read_export([json.dumps(manifest) + "\n"]))

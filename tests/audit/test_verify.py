"""The offline verifier (app.audit.verify, `python -m app.audit verify`): each way of
tampering with `audit_events` is found online and offline alike, at the same first bad
sequence and for the same reason; cut, edited and mangled files; exports written in
format 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.audit.verify import verify_export
from app.domain.chain import entry_hash
from app.domain.export import read_export
from app.domain.signing import load_public_pem
from app.store import codec
from tests.support.api import ROOT, Api, operation
from tests.support.audit import (
    FORMAT2,
    PUBLIC_KEY,
    export_text,
    file_lines,
    history,
    offline,
    online,
    split_lines,
)

Tamper = Callable[[Any, int], Awaitable[int]]  # (collection, head) -> expected first bad


async def edit_field(events: Any, head: int) -> int:
    await events.update_one({"_id": 5}, {"$set": {"reason": "nothing to see"}})
    return 5


async def delete_entry(events: Any, head: int) -> int:
    await events.delete_one({"_id": 7})
    return 7


async def swap_neighbours(events: Any, head: int) -> int:
    a = await events.find_one({"_id": 6})
    b = await events.find_one({"_id": 7})
    await events.delete_many({"_id": {"$in": [6, 7]}})
    await events.insert_one({**b, "_id": 6})
    await events.insert_one({**a, "_id": 7})
    return 6


async def delete_newest(events: Any, head: int) -> int:
    await events.delete_many({"_id": {"$gt": head - 3}})
    return head - 2


async def rewrite_from(events: Any, head: int) -> int:
    """Change entry 4 and recompute every later hash and link, as a forger without the key."""
    previous = (await events.find_one({"_id": 3}))["hash"]
    for sequence in range(4, head + 1):
        doc = await events.find_one({"_id": sequence})
        entry = codec.audit_from(doc)
        if sequence == 4:
            entry = entry.__class__(**{**_fields(entry), "reason": "rewritten"})
        entry = entry.__class__(**{**_fields(entry), "previous_hash": previous, "hash": ""})
        digest = entry_hash(entry)
        await events.update_one(
            {"_id": sequence},
            {"$set": {"reason": entry.reason or "", "previousHash": previous, "hash": digest}},
        )
        previous = digest
    return 4


async def insert_forged(events: Any, head: int) -> int:
    """Append a well-formed entry with a correct hash but no valid signature."""
    last = codec.audit_from(await events.find_one({"_id": head}))
    forged = last.__class__(
        **{**_fields(last), "sequence": head + 1, "previous_hash": last.hash,
           "reason": "forged", "operation_id": "op_forged", "hash": "", "signature": None}
    )  # fmt: skip
    forged = forged.__class__(**{**_fields(forged), "hash": entry_hash(forged)})
    await events.insert_one(codec.audit_doc(forged))
    return head + 1


def _fields(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


CASES: dict[str, tuple[Tamper, str]] = {
    "edit a field of entry k": (edit_field, "edited"),
    "delete entry k": (delete_entry, "missing"),
    "swap k and k+1": (swap_neighbours, "missing or out of place"),
    "delete the newest entries": (delete_newest, "missing"),
    "rewrite from k with recomputed hashes": (rewrite_from, "not signed"),
    "insert a forged entry": (insert_forged, "not signed"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_online_and_offline_agree(api: Api, case: str) -> None:
    tamper, words = CASES[case]
    await history(api)
    await api.data(operation("CreateAuditCheckpoint"))  # a signed head covers the newest
    assert (await online(api))["ok"] is True
    events = api.services.database.get_collection("audit_events")
    head = await events.count_documents({})
    expected = await tamper(events, head)

    found_online = await online(api)
    found_offline = await offline(api)
    assert found_online["ok"] is False and found_offline.ok is False
    assert found_online["firstInvalidSequence"] == expected, found_online["reason"]
    assert found_offline.first_invalid_sequence == expected, found_offline.reason
    assert words in found_online["reason"] and words in (found_offline.reason or "")


async def test_a_cut_off_or_edited_file_is_refused(api: Api) -> None:
    await history(api)
    text = await export_text(api)
    cut = verify_export(split_lines(text)[:-3])
    assert not cut.ok and "cut off" in (cut.reason or "")
    edited = text.replace('"reason":"r2"', '"reason":"r9"')
    result = verify_export(split_lines(edited))
    assert not result.ok and "edited" in (result.reason or "")


async def test_the_offline_tool(api: Api, tmp_path: Path) -> None:
    await history(api)
    good = tmp_path / "trail.jsonl"
    good.write_text(await export_text(api))
    pem = tmp_path / "confid.pem"
    pem.write_text((await api.client.get("/audit/public-key")).text)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text().replace('"reason":"r3"', '"reason":"r8"'))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.audit", "verify", *args],
                              cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip

    ok = run(str(good), "--public-key", str(pem))
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    invalid = run(str(bad), "--public-key", str(pem))
    assert invalid.returncode == 1 and "INVALID at sequence" in invalid.stdout
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    other_key = tmp_path / "other.pem"
    subprocess.run([sys.executable, "-m", "app.audit", "keygen", "--out",
                    str(tmp_path / "k.pem")], cwd=ROOT, capture_output=True, check=True,
                   text=True)  # fmt: skip
    from app.domain.signing import Signer, public_pem

    other_key.write_text(public_pem(Signer.from_pem((tmp_path / "k.pem").read_bytes()).public))
    foreign = run(str(good), "--public-key", str(other_key))
    assert foreign.returncode == 1 and "not signed by confid's key" in foreign.stdout


async def test_a_mangled_csv_row_is_reported_not_a_crash(api: Api) -> None:
    await history(api)
    rows = split_lines(await export_text(api, format="csv"))
    rows[5] = "garbage,row\n"
    result = verify_export(rows)
    assert not result.ok and result.first_invalid_sequence is not None


@pytest.mark.parametrize("path", FORMAT2, ids=lambda p: p.suffix)
def test_a_format_2_export_still_verifies(path: Path) -> None:
    text = file_lines(path)
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
    text = file_lines(FORMAT2[0])
    edited = [line.replace('"reason":"r1"', '"reason":"r7"') for line in text]
    assert edited != text
    result = verify_export(edited, load_public_pem(PUBLIC_KEY.read_text()))
    assert not result.ok and "edited" in (result.reason or "")

"""The offline verifier (app.audit.verify, `python -m app.audit verify`): each way of
tampering with `audit_events` is found online and offline alike, at the same first bad
sequence and for the same reason; cut, edited and mangled files; the export's seal
(a file cut short with its counts edited, an edited or foreign seal); exports written in
formats 2 and 3, which verify with a warning that their end is not signed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.verify import verify_export
from app.domain.chain import entry_hash
from app.domain.export import read_export
from app.domain.signing import Signer, load_public_pem, public_pem
from app.store import codec
from tests.support.api import ROOT, Api, operation
from tests.support.audit import (
    FORMAT2,
    FORMAT3,
    FORMAT3_KEY,
    PUBLIC_KEY,
    ExportFile,
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
    warning, verdict = run.stdout.splitlines()
    assert warning.startswith("warning: the end of this export is not signed")
    assert verdict.startswith("OK: 9 entries verified") and "seal" not in verdict


def test_an_edited_format_2_file_is_still_caught() -> None:
    text = file_lines(FORMAT2[0])
    edited = [line.replace('"reason":"r1"', '"reason":"r7"') for line in text]
    assert edited != text
    result = verify_export(edited, load_public_pem(PUBLIC_KEY.read_text()))
    assert not result.ok and "edited" in (result.reason or "")


# --- the export's seal -----------------------------------------------------------------


async def sealed_export(api: Api, **params: str) -> tuple[str, Ed25519PublicKey]:
    """An export whose newest entries come after the newest checkpoint (the entries no
    checkpoint protects), and confid's public key."""
    await history(api)
    await api.data(operation("CreateAuditCheckpoint"))
    await history(api, changes=2)
    pem = (await api.client.get("/audit/public-key")).text
    return await export_text(api, **params), load_public_pem(pem)


def run_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m app.audit verify ...`: `confid audit verify`, offline."""
    return subprocess.run([sys.executable, "-m", "app.audit", "verify", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip


@pytest.mark.parametrize("encoding", ["jsonl", "csv"])
async def test_a_sealed_export_verifies(api: Api, encoding: str) -> None:
    text, key = await sealed_export(api, format=encoding)
    result = verify_export(split_lines(text), key)
    assert result.ok and result.sealed and not result.warnings, result.render()
    assert result.render().endswith("the export's seal is valid")


@pytest.mark.parametrize("encoding", ["jsonl", "csv"])
@pytest.mark.parametrize("drop", [1, 3])
async def test_a_file_cut_short_with_its_counts_edited_is_refused(
    api: Api, encoding: str, drop: int
) -> None:
    """The reviewer's finding: entries after the newest checkpoint removed, the manifest's
    and the end record's count, last sequence and head lowered to match."""
    text, key = await sealed_export(api, format=encoding)
    exported = ExportFile.parse(text)
    head = exported.entries[-1][0]
    newest = max(cp.sequence for kind, cp in read_export(split_lines(text)) if kind == "checkpoint")
    assert newest < head - drop  # no checkpoint covers what is cut
    result = verify_export(exported.cut(drop).lines(), key)
    assert not result.ok and not result.sealed
    assert result.first_invalid_sequence == head - drop + 1
    missing = f"entry {head}" if drop == 1 else f"entries {head - drop + 1} to {head}"
    assert result.reason == (
        f"{missing} {'is' if drop == 1 else 'are'} missing: the export's seal (signed by "
        f"confid) says the file ends at sequence {head} with {head} entries"
    )


async def test_a_filtered_export_with_an_entry_removed_is_refused(api: Api) -> None:
    user = await api.enabled_user()
    text, key = await sealed_export(api, userId=user["id"])
    middle = ExportFile.parse(text)
    del middle.entries[1]
    middle.cut(0)  # counts lowered to match, the last entry kept
    result = verify_export(middle.lines(), key)
    assert not result.ok and result.reason is not None
    assert "the file has" in result.reason and "entries were removed" in result.reason
    # The statement made to say so too: its signature no longer holds.
    restated = verify_export(middle.restate().lines(), key)
    assert not restated.ok and "not validly signed by confid's key" in (restated.reason or "")


async def test_a_filtered_export_with_an_entry_swapped_for_another_is_refused(api: Api) -> None:
    """Same count, same first and last entry, every entry genuine and in order: only the
    digest of the entries' hashes tells that one is not what confid exported."""
    user = await api.enabled_user()
    text, key = await sealed_export(api, userId=user["id"])
    whole = ExportFile.parse(await export_text(api))
    filtered = ExportFile.parse(text)
    (before, _, _), (after, _, _) = filtered.entries[0], filtered.entries[2]
    stranger = next(e for e in whole.entries if before < e[0] < after and e not in filtered.entries)
    filtered.entries[1] = stranger
    result = verify_export(filtered.lines(), key)
    assert not result.ok and result.first_invalid_sequence is None
    assert result.reason == (
        "the entries in the file are not those confid exported: their hashes do not match "
        "the entriesDigest of the export's seal (signed by confid)"
    )


async def test_an_edited_seal_is_refused(api: Api) -> None:
    text, key = await sealed_export(api)
    cut = ExportFile.parse(text).cut().restate()  # statement, manifest and end agree
    result = verify_export(cut.lines(), key)
    assert not result.ok and result.first_invalid_sequence is None
    assert result.reason == (
        "the export's seal is not validly signed by confid's key (the seal was altered or forged)"
    )
    for edit in ({"exportedAt": "2020-01-01T00:00:00.000Z"}, {"checkpoints": 0},
                 {"partial": True}, {"signedFromSequence": 9}):  # fmt: skip
        whole = ExportFile.parse(text)
        whole.end["seal"].update(edit)
        whole.manifest.update(edit)
        edited = verify_export(whole.lines(), key)
        assert not edited.ok and "not validly signed" in (edited.reason or ""), edit


async def test_a_seal_signed_with_another_key_is_refused(api: Api) -> None:
    text, key = await sealed_export(api)
    forger = Signer.generate()
    forged = ExportFile.parse(text).cut().restate(forger).lines()
    result = verify_export(forged, key)
    assert not result.ok
    assert result.reason == (
        f"the export's seal is not validly signed by confid's key (it names key "
        f"{forger.key_id}, which is not one of the keys verified with)"
    )
    # The forger's signature under confid's key id is no better.
    named_forged = ExportFile.parse(text).cut().restate()
    named_forged.end["signature"] = forger.sign(b"anything")
    assert "seal was altered or forged" in (verify_export(named_forged.lines(), key).reason or "")


async def test_a_seal_removed_or_unsigned_is_refused(api: Api) -> None:
    text, key = await sealed_export(api)
    unsigned = ExportFile.parse(text)
    unsigned.end["signature"] = None
    result = verify_export(unsigned.lines(), key)
    assert not result.ok and "the export's seal is not signed" in (result.reason or "")
    removed = ExportFile.parse(text).cut()
    del removed.end["seal"], removed.end["signature"]
    gone = verify_export(removed.lines(), key)
    assert not gone.ok and (gone.reason or "").startswith("the export has no seal")
    mangled = ExportFile.parse(text)
    mangled.end["seal"]["count"] = True  # a JSON true is not a count
    bad = verify_export(mangled.lines(), key)
    assert bad.reason == "the export's seal is malformed: the seal's count has the wrong type"


async def test_a_manifest_that_differs_from_its_seal_is_refused(api: Api) -> None:
    text, key = await sealed_export(api)
    exported = ExportFile.parse(text)
    exported.manifest["filter"] = {"actor": "nobody"}
    result = verify_export(exported.lines(), key)
    assert not result.ok
    assert result.reason == (
        'the manifest\'s filter is {"actor": "nobody"} but the export\'s seal (signed by '
        "confid) says {}: the manifest was edited"
    )


async def test_a_checkpoint_removed_from_a_sealed_file_is_refused(api: Api) -> None:
    text, key = await sealed_export(api)
    exported = ExportFile.parse(text)
    exported.checkpoints.pop(0)
    exported.manifest["checkpoints"] -= 1
    result = verify_export(exported.lines(), key)
    assert not result.ok and "checkpoint records but the export's seal" in (result.reason or "")


async def test_a_sealed_file_downgraded_to_format_3_needs_the_seal_to_be_required(
    api: Api,
) -> None:
    """The format is named by the unsigned manifest: a file passed off as format 3 verifies
    with the warning, and is refused where a seal is required."""
    text, key = await sealed_export(api)
    downgraded = ExportFile.parse(text).cut()
    downgraded.manifest["format"] = "confid-audit-export/3"
    downgraded.end = {"count": downgraded.end["count"]}
    warned = verify_export(downgraded.lines(), key)
    assert warned.ok and not warned.sealed
    assert warned.warnings[0].startswith("the end of this export is not signed")
    required = verify_export(downgraded.lines(), key, require_seal=True)
    assert not required.ok and required.reason == (
        "the export has no seal (confid-audit-export/3) and a seal is required"
    )


@pytest.mark.parametrize("path", FORMAT3, ids=lambda p: p.suffix)
def test_a_format_3_export_verifies_with_a_warning_that_its_end_is_unsigned(path: Path) -> None:
    key = load_public_pem(FORMAT3_KEY.read_text())
    text = file_lines(path)
    result = verify_export(text, key)
    assert result.ok and not result.sealed, result.render()
    assert (result.checked, result.checkpoints_checked) == (7, 3)
    assert result.warnings == [
        "the end of this export is not signed (format confid-audit-export/3 has no seal): "
        "entries removed from the end of the file after its newest checkpoint, with its "
        "counts edited to match, cannot be detected; a new export is sealed"
    ]
    actors = {v[1].actor.subject for k, v in read_export(text) if k == "entry"}
    assert actors == {None, "sub-4711"}
    # What the warning says: such a file cut short still verifies.
    cut = ExportFile.parse("".join(text)).cut(2).lines()
    assert verify_export(cut, key).ok
    assert not verify_export(cut, key, require_seal=True).ok


async def test_the_offline_tool_exit_codes_for_the_seal(api: Api, tmp_path: Path) -> None:
    text, key = await sealed_export(api)
    pem = tmp_path / "confid.pem"
    pem.write_text(public_pem(key))
    good, cut, forged = (tmp_path / f"{n}.jsonl" for n in ("good", "cut", "forged"))
    good.write_text(text)
    cut.write_text("".join(ExportFile.parse(text).cut().lines()))
    forged.write_text("".join(ExportFile.parse(text).cut().restate(Signer.generate()).lines()))

    ok = run_verify(good, "--public-key", pem)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: ") and "seal is valid" in ok.stdout
    for bad in (cut, forged):
        refused = run_verify(bad, "--public-key", pem)
        assert refused.returncode == 1, refused.stdout
        assert refused.stdout.splitlines()[-2].startswith("INVALID"), refused.stdout
    as_json = json.loads(run_verify(forged, "--public-key", pem, "--json").stdout)
    assert as_json["ok"] is False and as_json["sealed"] is False
    assert as_json["firstInvalidSequence"] is None and "seal" in as_json["reason"]
    old = run_verify(FORMAT3[0], "--public-key", FORMAT3_KEY)
    assert old.returncode == 0 and old.stdout.startswith("warning: the end of this export")
    strict = run_verify(FORMAT3[0], "--public-key", FORMAT3_KEY, "--require-seal")
    assert strict.returncode == 1 and "a seal is required" in strict.stdout
    assert run_verify(good, "--public-key", pem, "--require-seal").returncode == 0

"""Shared by the auditor tests: exports over HTTP and both verifiers side by side, a small
history to verify, export files written by older releases, and an export taken apart to be
tampered with (`ExportFile`)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.audit.verify import FileVerification, verify_export
from app.domain.export import comment_line, csv_text, json_line
from app.domain.export_seal import ExportStatement, ExportTally
from app.domain.signing import Signer
from tests.support.api import ROOT, TOKENS, Api, operation


async def export_text(api: Api, token: str = "auditor", **params: str) -> str:
    """GET /audit/export as `token`, with `params`: the file's text."""
    response = await api.client.get(
        "/audit/export", params=params, headers={"Authorization": f"Bearer {TOKENS[token]}"}
    )
    assert response.status_code == 200, response.text
    return response.text


async def online(api: Api) -> dict[str, Any]:
    data = await api.data(operation("VerifyAuditTrail"), token="auditor")
    result: dict[str, Any] = data["verifyAuditTrail"]
    return result


async def offline(api: Api, **params: str) -> FileVerification:
    return verify_export((await export_text(api, **params)).splitlines(keepends=True))


async def history(api: Api, changes: int = 6) -> None:
    """A few resets, a refused set and a send, on the first two enabled users."""
    for n in range(changes):
        user = await api.enabled_user(n % 2)
        await api.data(
            operation("ResetConferenceId"), {"input": {"userId": user["id"], "reason": f"r{n}"}}
        )
    user = await api.enabled_user()
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "1234567"}}
    )
    await api.data(operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})


# Exports written before the actor named the person (format 2), committed as made by that
# release, with the public key that signed them.
FIXTURES = ROOT / "tests" / "audit" / "fixtures"
PUBLIC_KEY = FIXTURES / "format2-public.pem"
FORMAT2 = [FIXTURES / "format2-trail.jsonl", FIXTURES / "format2-trail.csv"]
# Exports written before the export seal (format 3), by the code of that version through
# GET /audit/export: a demo of three users, two checkpoints, an entry of a person signed in
# through OpenID Connect, and three entries after the newest checkpoint (4).
FORMAT3_KEY = FIXTURES / "format3-public.pem"
FORMAT3 = [FIXTURES / "format3-trail.jsonl", FIXTURES / "format3-trail.csv"]


def _newline_split(text: str) -> list[str]:
    """Lines ended by a line feed only (`str.splitlines` also splits at U+2028, which a
    JSON line may hold as itself)."""
    return [line + "\n" for line in text.removesuffix("\n").split("\n")]


@dataclass
class ExportFile:
    """An export taken apart into its records, to be edited as a tamperer would and put
    back together in the same encoding."""

    csv: bool
    manifest: dict[str, Any]
    checkpoints: list[str]  # the lines as they were
    header: list[str]
    entries: list[tuple[int, str, str]]  # (sequence, hash, the line as it was)
    end: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> ExportFile:
        if text.startswith("#manifest,"):
            return cls._parse_csv(text)
        lines = _newline_split(text)
        records = [(json.loads(line), line) for line in lines]
        kinds = [r.pop("type") for r, _ in records]
        assert (kinds[0], kinds[-1]) == ("manifest", "end")
        return cls(
            csv=False,
            manifest=records[0][0],
            checkpoints=[ln for k, (_, ln) in zip(kinds, records, strict=True)
                         if k == "checkpoint"],
            header=[],
            entries=[(r["sequence"], r["hash"], ln) for k, (r, ln) in zip(kinds, records,
                     strict=True) if k == "entry"],
            end=records[-1][0],
        )  # fmt: skip

    @classmethod
    def _parse_csv(cls, text: str) -> ExportFile:
        rows = list(csv.reader(_newline_split(text)))
        header = next(r for r in rows if not r[0].startswith("#"))
        sequence, digest = header.index("sequence"), header.index("hash")
        body = [r for r in rows if not r[0].startswith("#") and r is not header]
        return cls(
            csv=True,
            manifest=json.loads(rows[0][1]),
            checkpoints=[csv_text(r) for r in rows if r[0] == "#checkpoint"],
            header=header,
            entries=[(int(r[sequence]), r[digest], csv_text(r)) for r in body],
            end=json.loads(rows[-1][1]),
        )

    def cut(self, drop: int = 1) -> ExportFile:
        """Remove the newest `drop` entries and lower the manifest's and the end record's
        counts, last sequence and head to match: the unsigned parts, edited consistently."""
        self.entries = self.entries[:-drop] if drop else self.entries
        last = self.entries[-1] if self.entries else None
        self.manifest["count"] = self.end["count"] = len(self.entries)
        self.manifest["lastSequence"] = last[0] if last else None
        if not self.manifest["partial"]:
            self.manifest["headSequence"] = last[0] if last else 0
            self.manifest["headHash"] = last[1] if last else "0" * 64
        return self

    def restate(self, signer: Signer | None = None) -> ExportFile:
        """Make the seal's statement say what the file now holds, as the manifest does
        (what a tamperer without confid's key can do), signed by `signer` if given (then
        naming its key) or keeping the old signature."""
        seal = self.end["seal"]
        seal.update({k: self.manifest[k] for k in seal if k in self.manifest})
        written = ExportTally()
        for sequence, digest, _ in self.entries:
            written.add(sequence, digest)
        seal["lastHash"], seal["entriesDigest"] = written.last_hash, written.entries_digest
        if signer is not None:
            seal["keyId"] = self.manifest["keyId"] = signer.key_id
            self.end["signature"] = ExportStatement.from_record(seal).sign(signer)
        return self

    def lines(self) -> list[str]:
        record = comment_line if self.csv else json_line
        head = [record("manifest", self.manifest), *self.checkpoints]
        if self.csv:
            head.append(csv_text(self.header))
        return [*head, *(line for _, _, line in self.entries), record("end", self.end)]


def file_lines(path: Path) -> list[str]:
    """An export file's lines, as a verifier reads them."""
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def split_lines(text: str) -> list[str]:
    """An export's text as lines, as a verifier reads them."""
    return text.splitlines(keepends=True)


async def checkpoint(api: Api) -> dict[str, Any]:
    data = await api.data(operation("CreateAuditCheckpoint"))
    payload: dict[str, Any] = data["createAuditCheckpoint"]
    return payload


async def trail_head(api: Api) -> int:
    return int(await api.services.database.get_collection("audit_events").count_documents({}))


async def make_history(api: Api, resets: int = 4) -> None:
    user = await api.enabled_user()
    for _ in range(resets):
        await api.data(operation("ResetConferenceId"), {"input": {"userId": user["id"]}})
    await api.data(
        operation("SetConferenceId"), {"input": {"userId": user["id"], "conferenceId": "12"}}
    )


async def trail_length(api: Api) -> int:
    """The sequence of the newest audit entry."""
    data = await api.data(operation("ListAuditEvents"), {"first": 1})
    return int(data["auditEvents"]["edges"][0]["node"]["sequence"])

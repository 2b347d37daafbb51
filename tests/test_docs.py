"""The docs say what the code does: every setting, the export specification and its worked
example, the role table, the README's example output, links, and the landing page's size."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from graphql import GraphQLObjectType
from mongomock_motor import AsyncMongoMockClient

from app.api.schema import schema
from app.audit.verify import verify_export
from app.domain.access import Capability, Principal
from app.domain.chain import GENESIS_HASH, entry_fault, entry_hash, seal
from app.domain.checkpoint import checkpoint_message
from app.domain.encoding import canonical_bytes, from_record
from app.domain.entry import ACTOR, ENCODING_VERSION, FIELDS, HASHED, AuditDraft
from app.domain.export import (
    CSV_COLUMNS,
    FORMAT,
    checkpoint_from_record,
    csv_row,
    csv_text,
    entry_record,
    json_line,
)
from app.domain.export_seal import (
    SIGNED_MANIFEST_MEMBERS,
    ExportHeader,
    ExportStatement,
    ExportTally,
    end_record,
)
from app.domain.models import Actor, AuditAction, AuditOutcome, RequestMeta, Role
from app.domain.signing import Signer, key_id, load_public_pem, public_pem, verify
from app.main import create_app
from app.services.tokens import hash_token
from app.settings import Settings
from tests.support.audit import ExportFile


def _root() -> Path:
    here = Path(__file__).resolve().parent
    while not (here / "pyproject.toml").exists():
        here = here.parent
    return here


ROOT = _root()
DOCS = ROOT / "docs"
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """From the line `heading` to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index("\n" + heading + "\n") + 1
    stop = re.compile(rf"^#{{1,{level}}} ", re.M).search(text, start + len(heading))
    return text[start : stop.start() if stop else len(text)]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text`, as lists of stripped cells."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if re.fullmatch(r"\|[-:| ]+\|", line.strip()):
            rows.pop()  # the header row above the separator
        elif line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def blocks(text: str, language: str | None = None) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if language is None or lang == language]


# --- configuration ------------------------------------------------------------------


class _Recorder(dict[str, str]):
    """An empty environment that notes every variable read from it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def variables_read() -> set[str]:
    """What `Settings.from_env` reads: recorded while it runs, and every name the settings
    modules spell out as a string of their own."""
    environment = _Recorder()
    Settings.from_env(environment)
    spelled = set()
    for module in ("settings.py", "env.py"):
        spelled |= set(
            re.findall(r'"(CONFID_[A-Z0-9_]+|MONGODB_URL)"', read(ROOT / "app" / module))
        )
    return environment.read | spelled


def variables_documented() -> set[str]:
    text = section(read(DOCS / "operations.md"), "## Configuration")
    names: set[str] = set()
    for row in table_rows(text):
        names |= {n for n in code_names(row[0]) if re.fullmatch(r"CONFID_\w+|MONGODB_URL", n)}
    return names


def test_the_configuration_table_lists_exactly_the_variables_confid_reads() -> None:
    read_, documented = variables_read(), variables_documented()
    assert len(read_) > 50  # the recorder saw the settings being read
    assert not read_ - documented, f"read but not documented: {sorted(read_ - documented)}"
    assert not documented - read_, f"documented but never read: {sorted(documented - read_)}"


# --- the export specification -------------------------------------------------------

SPEC = DOCS / "export-format.md"


def spec_table(heading: str) -> dict[str, list[str]]:
    rows = table_rows(section(read(SPEC), heading))
    return {code_names(row[0])[0]: row for row in rows if code_names(row[0])}


def test_every_entry_field_is_specified_with_its_version() -> None:
    table = spec_table("### 2.4 Entry fields")
    assert set(table) == {f.name for f in FIELDS}
    for field in FIELDS:
        _, _, since, hashed, *_ = table[field.name]
        assert int(since) == field.since, field.name
        assert hashed == ("yes" if field.hashed else "no"), field.name


def test_every_actor_key_is_specified_with_its_version() -> None:
    table = spec_table("### 2.5 The actor object")
    assert set(table) == {key.name for key in ACTOR}
    for key in ACTOR:
        assert int(table[key.name][2]) == key.since, key.name


def test_the_spec_names_the_current_versions_columns_and_key_order() -> None:
    text = read(SPEC)
    assert f"`{FORMAT}`" in text
    versions = table_rows(text.split("\n## 1.")[0])
    assert versions[0][1] == FORMAT.rsplit("/", 1)[1]  # export format
    assert versions[1][1] == str(ENCODING_VERSION)  # hash encoding
    assert ",".join(CSV_COLUMNS) in blocks(section(text, "### 2.3 Entry"), "text")[0]
    order = section(text, "## 3. The canonical encoding the hash covers")
    listed = re.search(r"byte order\): (.*?)\. The actor", order, re.S)
    assert listed is not None
    assert code_names(listed.group(1)) == sorted(f.name for f in HASHED)


def test_the_spec_names_the_seal_s_members_as_the_code_writes_them() -> None:
    """The manifest's members (§2.1, in the order confid writes them), those the seal signs
    again, the seal's own (§2.7) and the sorted list the signature covers (§4.3)."""
    text = read(SPEC)
    manifest = [n for row in table_rows(section(text, "### 2.1 Manifest")) for n in
                code_names(row[0])]  # fmt: skip
    assert manifest == [*SIGNED_MANIFEST_MEMBERS, "publicKeyPem", "publicKeysPem"]
    end = section(text, "### 2.7 End and the export seal")
    tables = [code_names(row[0])[0] for row in table_rows(end)]
    assert tables == ["count", "seal", "signature", "lastHash", "entriesDigest"]
    statement = ExportStatement.from_record(json.loads(json.dumps(_example_end()["seal"])))
    (listed,) = blocks(section(text, "### 4.3 The export seal"), "text")
    assert listed.strip().split(", ") == sorted(statement.record())
    assert set(statement.record()) == {"type", *SIGNED_MANIFEST_MEMBERS, "lastHash",
                                       "entriesDigest"}  # fmt: skip


def _example_end() -> dict[str, Any]:
    (end,) = [json.loads(b) for b in blocks(_example(), "json") if '"type":"end"' in b]
    return dict(end)


def _example() -> str:
    return section(read(SPEC), "## 7. Worked example")


def _example_key() -> Ed25519PublicKey:
    (pem,) = [b for b in blocks(_example(), "text") if "BEGIN PUBLIC KEY" in b]
    return load_public_pem(pem)


def test_the_worked_example_hashes_and_verifies_as_the_code_does() -> None:
    example, texts = _example(), set(blocks(_example(), "text"))
    key = _example_key()
    records = [json.loads(b) for b in blocks(example, "json")]
    entries = [r for r in records if r.pop("type") == "entry"]
    assert len(entries) == 2
    for record in entries:
        entry = from_record(record)
        canonical = canonical_bytes(entry)
        assert canonical.decode("utf-8") + "\n" in texts, f"canonical bytes of {entry.sequence}"
        digest = hashlib.sha256(canonical).hexdigest()
        assert digest == record["hash"] == entry_hash(entry)
        assert digest + "\n" in texts
        assert entry.key_id == key_id(key)
        assert entry_fault(entry, {key_id(key): key}, 1) is None  # hash and signature
        assert entry_record(entry) == record  # the record is exactly what confid exports
    (reset,) = [from_record(r) for r in entries if r["sequence"] == 47]
    assert csv_text(csv_row(reset)).removesuffix("\r\n") + "\n" in texts
    (stated,) = [r for r in records if "signedAt" in r]
    checkpoint = checkpoint_from_record(stated)
    message = checkpoint_message(checkpoint.sequence, checkpoint.hash, checkpoint.signed_at)
    assert message.decode("utf-8") + "\n" in set(blocks(read(SPEC), "text"))
    assert verify(key, checkpoint.signature, message)


EXAMPLE_FILE = DOCS / "examples" / "export-format-4.jsonl"


def test_the_worked_example_is_sealed_as_the_code_seals() -> None:
    """The end record's seal: its canonical bytes as shown, signed with the example's key,
    stating the manifest's members and the example's last entry."""
    example, texts = _example(), set(blocks(_example(), "text"))
    key = _example_key()
    records = {json.loads(b)["type"]: json.loads(b) for b in blocks(example, "json")}
    manifest, end = records["manifest"], records["end"]
    statement = ExportStatement.from_record(end["seal"])
    assert statement.record() == end["seal"]  # read back exactly: nothing dropped or added
    assert statement.message().decode("utf-8") + "\n" in texts
    assert f"one line,\n{len(statement.message())} bytes" in example
    assert verify(key, end["signature"], statement.message())
    assert statement.header.key_id == key_id(key) == manifest["keyId"]
    assert {k: manifest[k] for k in SIGNED_MANIFEST_MEMBERS} == {
        k: end["seal"][k] for k in SIGNED_MANIFEST_MEMBERS
    }
    last = max((json.loads(b) for b in blocks(example, "json")), key=_sequence)
    assert end["seal"]["lastHash"] == last["hash"] == manifest["headHash"]
    assert end["count"] == statement.header.count == last["sequence"]


def _sequence(record: dict[str, Any]) -> int:
    return int(record["sequence"]) if record["type"] == "entry" else 0


def test_the_worked_example_s_file_is_the_export_it_quotes() -> None:
    """Every record the example shows is a line of the file it links, byte for byte, and
    that file verifies (entries, checkpoint and seal) with the key it shows."""
    lines = EXAMPLE_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    for shown in blocks(_example(), "json"):
        assert shown in lines, shown[:60]
    key = _example_key()
    pem = DOCS / "examples" / "export-format-4-public.pem"
    assert key_id(load_public_pem(read(pem))) == key_id(key)
    result = verify_export(lines, key)
    assert result.ok and result.sealed and result.checked == 47, result.render()


def _chain(tmp_path: Path) -> tuple[Path, Path]:
    """A small signed chain with awkward text, exported as sealed JSON Lines."""
    signer = Signer.generate()
    person = Actor("zoë@contoso.example", Role.ADMIN, "https://idp.example", "sub-1", "Zoë")
    metas = [
        RequestMeta(Actor("svc-1", Role.HELPDESK), "203.0.113.7", "curl/8", "r1", "INC-1"),
        RequestMeta(person, "203.0.113.8", "Mozilla/5.0", "r2"),
        RequestMeta(Actor("system", Role.SYSTEM)),
    ]
    reasons = ['Zoë said "now"\tplease\u2028\x1b', None, "=1+1 \\ done"]
    previous, lines, written = GENESIS_HASH, [], ExportTally()
    for number, (meta, reason) in enumerate(zip(metas, reasons, strict=True), start=1):
        draft = AuditDraft(
            occurred_at=datetime(2026, 12, 1, 9, 0, number, 123456, tzinfo=UTC),
            action=AuditAction.RESET, outcome=AuditOutcome.SUCCESS, error_codes=(),
            user_id=f"u{number:05d}", bridge_id="default", previous_conference_id="0123456",
            new_conference_id="7654321", meta=meta, reason=reason, recipients=(),
            to_non_primary=False, operation_id=f"op_{number}",
            incident_id="inc_1" if number == 3 else None,
        )  # fmt: skip
        entry = seal(draft, number, previous, signer)
        previous = entry.hash
        written.add(entry.sequence, entry.hash)
        lines.append(json_line("entry", entry_record(entry)))
    header = ExportHeader(
        format=FORMAT, encoding="jsonl", exported_at=datetime(2026, 12, 1, 9, 1, tzinfo=UTC),
        filter={}, partial=False, count=3, first_sequence=1, last_sequence=3, head_sequence=3,
        head_hash=previous, checkpoints=0, key_id=signer.key_id, signed_from_sequence=1,
    )  # fmt: skip
    statement = ExportStatement(header, written.last_hash, written.entries_digest)
    end = end_record(written.count, statement, statement.sign(signer))
    lines = [json_line("manifest", header.record()), *lines, json_line("end", end)]
    trail, pem = tmp_path / "trail.jsonl", tmp_path / "confid.pem"
    trail.write_text("".join(lines), encoding="utf-8")
    pem.write_text(public_pem(signer.public), encoding="ascii")
    return trail, pem


def test_the_verifier_in_the_spec_verifies_a_chain_and_refuses_an_edit(tmp_path: Path) -> None:
    (code,) = blocks(_example(), "python")
    trail, pem = _chain(tmp_path)

    def run() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", code, str(trail), str(pem)]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    passed = run()
    assert passed.returncode == 0 and passed.stdout == "OK 3\n", passed.stderr
    whole = read(trail)
    trail.write_text(whole.replace("u00002", "u00009"), encoding="utf-8")
    assert run().returncode != 0
    # Cut short, the manifest and end count edited; then the seal restated without the key.
    for tampered in (ExportFile.parse(whole).cut(), ExportFile.parse(whole).cut().restate()):
        trail.write_text("".join(tampered.lines()), encoding="utf-8")
        cut = run()
        assert cut.returncode != 0 and cut.stdout == "", cut.stdout


# --- roles --------------------------------------------------------------------------

# These two check the role in their resolver (they also tell who is asking).
_RESOLVER_CHECKED = {"Query.viewer": Capability.READ_DIRECTORY,
                     "Query.rateLimit": Capability.READ_DIRECTORY}  # fmt: skip
_ROOTS = ("Query", "Mutation", "Subscription")


def guarded_fields() -> dict[str, Capability | None]:
    """Every root field and every other guarded field, with the capability it requires."""
    out: dict[str, Capability | None] = {}
    for type_name, named in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            key = f"{type_name}.{field_name}"
            definition = (field.extensions or {}).get("strawberry-definition")
            required = [
                permission.capability
                for extension in getattr(definition, "extensions", [])
                for permission in getattr(extension, "permissions", [])
            ]
            if required or type_name in _ROOTS:
                out[key] = required[0] if required else _RESOLVER_CHECKED.get(key)
    return out


def test_the_role_table_is_what_the_code_grants() -> None:
    fields = guarded_fields()
    rows = table_rows(section(read(DOCS / "api.md"), "## Roles").split("\n\n**")[0])
    seen: set[str] = set()
    for row in rows:
        marks = [cell == "✔" for cell in row[1:4]]
        for name in code_names(row[0]):
            key = (
                name
                if "." in name
                else next(f"{root}.{name}" for root in _ROOTS if f"{root}.{name}" in fields)
            )
            capability = fields[key]
            assert capability is not None, key
            granted = [Principal("x", role).may(capability) for role in
                       (Role.ADMIN, Role.HELPDESK, Role.AUDITOR)]  # fmt: skip
            assert marks == granted, f"{name}: documented {marks}, granted {granted}"
            seen.add(key)
    assert set(fields) - seen == set(), "fields missing from the role table"


# --- the README ---------------------------------------------------------------------


def test_the_readme_is_a_landing_page() -> None:
    assert len(README.read_bytes()) <= 10 * 1024


_VARIES = {"assignedAt", "conferenceId", "currentlyAvailable"}


def _masked(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: "<varies>" if k in keys else _masked(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item, keys) for item in value]
    return value


async def test_the_readme_example_is_what_a_fresh_demo_answers(tmp_path: Path) -> None:
    example = section(read(README), "## Example")
    queries, answers = blocks(example, "graphql"), blocks(example, "json")
    assert len(queries) == len(answers) == 2
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(
        f'[[tokens]]\nname = "demo-helpdesk"\nrole = "helpdesk"\n'
        f'sha256 = "{hash_token("readme-token")}"\n',
        encoding="utf-8",
    )
    app = create_app(
        Settings(tokens_file=tokens, seed_demo=True),
        database=AsyncMongoMockClient()["confid_docs"],
    )
    await app.state.services.start()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://confid.test") as client:
        results = []
        for query in queries:
            response = await client.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": "Bearer readme-token"},
            )
            results.append(response.json())
    # The seed is deterministic: only the seeding time, the token's refill and the ID a
    # reset draws from `secrets` differ from run to run.
    for result, shown in zip(results, answers, strict=True):
        assert _masked(result, _VARIES) == _masked(json.loads(shown), _VARIES)
    before = results[0]["data"]["users"]["edges"][1]["node"]["audioConferencing"]
    after = results[1]["data"]["resetConferenceId"]
    new = after["user"]["audioConferencing"]["conferenceId"]
    assert re.fullmatch(r"[0-9]{7}", new) and new != before["conferenceId"]
    assert after["notification"]["conferenceId"] == new


# --- links --------------------------------------------------------------------------

PAGES = [README, ROOT / "CONTRIBUTING.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md",
         ROOT / "tests" / "README.md", *sorted(DOCS.glob("*.md"))]  # fmt: skip


def _prose(path: Path) -> str:
    return FENCE.sub("", read(path))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    out: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", _prose(path), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page: Path) -> None:
    broken: list[str] = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        missing = not resolved.exists()
        if missing or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"

"""`python -m app.audit`: the same as `confid audit` (verify, export, keygen, ...).

python -m app.audit verify FILE [--public-key PEM] [--checkpoints FILE]
python -m app.audit export [--url URL] [--format jsonl|csv] [--out FILE] [filters]
python -m app.audit keygen --out PRIVATE.pem

Kept so that scripts/audit-verify, scripts/audit-export and existing habits keep working;
the commands themselves live in app/cli/audit_files.py.
"""

from __future__ import annotations

import sys

from app.cli.main import run


def main(argv: list[str] | None = None) -> int:
    return run(["audit", *(sys.argv[1:] if argv is None else argv)], prog_name="confid")


if __name__ == "__main__":
    sys.exit(main())

"""`python -m app.audit`: verify an export offline, download an export, make a signing key.

python -m app.audit verify FILE [--public-key PEM] [--checkpoints FILE]
python -m app.audit export --url URL [--format jsonl|csv] [--out FILE] [filters]
python -m app.audit keygen --out PRIVATE.pem
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.audit.verify import load_checkpoints, load_pinned_key, verify_export
from app.domain.export import ExportFormatError
from app.domain.signing import Signer, SigningKeyError, public_pem


def _verify(args: argparse.Namespace) -> int:
    try:
        pinned = load_pinned_key(args.public_key.read_text()) if args.public_key else None
        extra = []
        if args.checkpoints:
            with args.checkpoints.open(encoding="utf-8") as handle:
                extra = load_checkpoints(handle)
        with args.file.open(encoding="utf-8", newline="") as handle:
            result = verify_export(handle, pinned, extra)
    except (OSError, UnicodeDecodeError, ExportFormatError, SigningKeyError) as exc:
        print(f"cannot verify {args.file}: {exc}", file=sys.stderr)
        return 2
    print(result.render())
    return 0 if result.ok else 1


def _export(args: argparse.Namespace) -> int:
    import httpx2 as httpx

    token = os.environ.get("CONFID_TOKEN") or (
        args.token_file.read_text().strip() if args.token_file else None
    )
    if not token:
        print("set CONFID_TOKEN or pass --token-file (an admin or auditor token)", file=sys.stderr)
        return 2
    params = {"format": args.format}
    for name in ("userId", "action", "outcome", "actor", "from", "to"):
        value = getattr(args, name.replace("from", "from_"))
        if value is not None:
            params[name] = value
    out = args.out or Path(f"confid-audit.{args.format}")
    try:
        with httpx.stream(
            "GET",
            f"{args.url.rstrip('/')}/audit/export",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30, read=300),
        ) as response:
            if response.status_code != 200:
                response.read()
                print(
                    f"export refused: HTTP {response.status_code}: {response.text}", file=sys.stderr
                )
                return 1
            with out.open("w", encoding="utf-8") as handle:
                for chunk in response.iter_text():
                    handle.write(chunk)
    except httpx.TransportError as exc:
        print(f"cannot reach {args.url}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}; check it with: scripts/audit-verify {out} --public-key confid.pem")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    if args.out.exists():
        print(f"{args.out} exists; not overwriting a key", file=sys.stderr)
        return 2
    signer = Signer.generate()
    args.out.write_bytes(signer.private_pem())
    args.out.chmod(0o600)
    print(public_pem(signer.public), end="")
    print(f"key id {signer.key_id}; private key in {args.out} (keep it out of MongoDB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.audit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    verify = sub.add_parser("verify", help="verify an export file offline")
    verify.add_argument("file", type=Path)
    verify.add_argument("--public-key", type=Path, help="confid's public key (PEM) to pin")
    verify.add_argument("--checkpoints", type=Path, help="checkpoints kept from earlier exports")
    verify.set_defaults(run=_verify)

    export = sub.add_parser("export", help="download an export from a running confid")
    export.add_argument("--url", default="http://127.0.0.1:8000")
    export.add_argument("--token-file", type=Path, help="file with the token (or CONFID_TOKEN)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--out", type=Path)
    export.add_argument("--user-id", dest="userId")
    export.add_argument("--action")
    export.add_argument("--outcome")
    export.add_argument("--actor")
    export.add_argument("--from", dest="from_")
    export.add_argument("--to")
    export.set_defaults(run=_export)

    keygen = sub.add_parser("keygen", help="make an Ed25519 signing key for confid")
    keygen.add_argument("--out", type=Path, required=True)
    keygen.set_defaults(run=_keygen)

    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

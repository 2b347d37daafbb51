"""A GraphiQL build folder as scripts/_assets.sh makes it, without Node.js."""

from __future__ import annotations

import json
from pathlib import Path


def fake_build(root: Path, version: str = "abc123") -> Path:
    """A manifest, a script and a stylesheet under `root`, as a real build lays them out."""
    (root / "graphiql").mkdir(parents=True)
    (root / "graphiql" / "graphiql.js").write_text("// js", encoding="utf-8")
    (root / "graphiql" / "graphiql.css").write_text("/* css */", encoding="utf-8")
    manifest = {
        "version": version,
        "script": "graphiql/graphiql.js",
        "stylesheet": "graphiql/graphiql.css",
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root

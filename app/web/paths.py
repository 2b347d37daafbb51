"""Where the web assets live: the admin sources, the GraphiQL build and the operations."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent.parent

#: Built by scripts/_assets.sh (npm + esbuild); never committed.
BUILD_DIR = PACKAGE_DIR / "static" / "build"
#: The admin page: plain HTML, CSS and JS modules, served as they are (no build).
ADMIN_DIR = ROOT / "web" / "admin"
#: The example operations, offered as GraphiQL tabs.
OPERATIONS_DIR = ROOT / "graphql" / "operations"

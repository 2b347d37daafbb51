"""Where the web assets live: the admin sources, the GraphiQL build and the operations."""

from __future__ import annotations

from pathlib import Path

# Not resolved: app/web/admin and app/operations are links in a checkout (to web/admin and
# graphql/operations) and real folders in an installed wheel; both serve the same files.
PACKAGE_DIR = Path(__file__).parent

#: Built by scripts/_assets.sh (npm + esbuild); never committed, carried by the wheel.
BUILD_DIR = PACKAGE_DIR / "static" / "build"
#: The admin page: plain HTML, CSS and JS modules, served as they are (no build).
ADMIN_DIR = PACKAGE_DIR / "admin"
#: The example operations, offered as GraphiQL tabs.
OPERATIONS_DIR = PACKAGE_DIR.parent / "operations"

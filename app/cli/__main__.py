"""`python -m app.cli`: the same as the `confid` console script."""

from __future__ import annotations

import sys

from app.cli.main import run

if __name__ == "__main__":
    sys.exit(run())

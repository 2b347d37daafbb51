# Sourced by scripts/*: make .venv (Python 3.11+) and install confid into it when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALLER_DIR="$PWD"  # scripts taking the caller's file names go back here before they run
cd "$ROOT"
extras="${CONFID_EXTRAS:-}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "confid needs Python 3.11 or newer ($PY is $("$PY" --version 2>&1))" >&2; exit 1; }
  echo "creating .venv ..." >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.confid-installed${extras:+-$extras}"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
installed=no
for s in .venv/.confid-installed*; do
  # Any current install serves a plain run; the test extras need their own stamp.
  if [ -f "$s" ] && [ "$(cat "$s")" = "$want" ] && { [ -z "$extras" ] || [ "$s" = "$stamp" ]; }; then
    installed=yes
  fi
done
if [ "$installed" = no ]; then
  echo "installing confid${extras:+ with [$extras]} into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}" >&2
  echo "$want" > "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"

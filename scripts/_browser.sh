# Sourced by scripts/test after _bootstrap.sh: a Chromium for the browser tests. The machine's
# (Debian's `chromium`, or $CHROMIUM) is used when present; otherwise Playwright downloads its
# own once (into ~/.cache/ms-playwright). If that fails the browser tests skip on a developer
# machine and fail in CI (CI=true), where .ci/run installs Debian's chromium first.
_confid_browser() {
  if [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  if python -c 'import pathlib, sys
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    sys.exit(0 if pathlib.Path(p.chromium.executable_path).is_file() else 1)' 2>/dev/null; then
    return 0
  fi
  echo "no Chromium: downloading Playwright's for the browser tests ..." >&2
  if ! python -m playwright install chromium >&2; then
    echo "could not download Chromium: the browser tests cannot run" \
      "(apt-get install -y chromium, or python -m playwright install --with-deps chromium)" >&2
  fi
}
_confid_browser
unset -f _confid_browser

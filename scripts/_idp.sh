# Sourced by scripts/test after _bootstrap.sh: install the OpenID provider the tests start
# (panva's oidc-provider, pinned in tests/support/idp/package-lock.json) into
# tests/support/idp/node_modules, redone only when the lockfile changed. Node.js comes from the
# machine or from PyPI (scripts/_node.sh); without either those tests skip on a developer
# machine and fail in CI (CI=true).
source "$ROOT/scripts/_node.sh"
_confid_idp() {
  local idp="$ROOT/tests/support/idp" want
  want="$(cat "$idp/package.json" "$idp/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$idp/node_modules/.confid-installed" 2>/dev/null)" = "$want" ] && _confid_node_ok; then
    return 0
  fi
  if ! _confid_node; then
    echo "no Node.js: the OpenID Connect tests against a real provider cannot run" >&2
    return 0
  fi
  echo "installing the test OpenID provider into tests/support/idp/node_modules ..." >&2
  # --ignore-scripts: oidc-provider and its dependencies need no install script.
  if ! (cd "$idp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
    echo "npm ci in tests/support/idp failed: the OpenID Connect provider tests cannot run" >&2
    return 0
  fi
  echo "$want" > "$idp/node_modules/.confid-installed"
}
_confid_idp
unset -f _confid_idp

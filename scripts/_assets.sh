# Sourced by scripts/run and scripts/test after _bootstrap.sh: build self-hosted GraphiQL and
# the admin page's sign-in module (bundled oidc-client-ts).
# With Node.js 18+ and npm (scripts/_node.sh fetches them from PyPI when the machine has none):
# `npm ci` in web/ and an esbuild bundle into app/web/static/build/, redone only when web/
# changed. If that fails (no network, say) confid serves GraphiQL from a public CDN (and logs
# so); the admin page at / needs no build, only its sign-in with an identity provider does
# (pasting a token works either way).
source "$ROOT/scripts/_node.sh"
_confid_assets() {
  local web="$ROOT/web" out="$ROOT/app/web/static/build"
  local want deps
  deps="$(cat "$web/package.json" "$web/package-lock.json" | sha256sum | cut -d' ' -f1)"
  want="$(cd "$web" && cat package.json package-lock.json build.mjs graphiql/* signin/* admin/token.js admin-vendor/* | sha256sum | cut -d' ' -f1)"
  if [ -f "$out/manifest.json" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if ! _confid_node; then
    echo "no Node.js: GraphiQL will load from a public CDN (install Node.js 18+ and npm to self-host it)" >&2
    return 0
  fi
  if [ "$(cat "$web/node_modules/.confid-installed" 2>/dev/null)" != "$deps" ]; then
    echo "installing GraphiQL's npm packages into web/node_modules ..." >&2
    # --ignore-scripts: no package needs its install script (esbuild finds its binary itself).
    if ! (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
      echo "npm ci failed: GraphiQL will load from a public CDN" >&2
      return 0
    fi
    echo "$deps" > "$web/node_modules/.confid-installed"
  fi
  echo "building GraphiQL into app/web/static/build ..." >&2
  if ! (cd "$web" && node build.mjs "$out" >&2); then
    echo "the GraphiQL build failed: GraphiQL will load from a public CDN" >&2
    return 0
  fi
  echo "$want" > "$out/.stamp"
}
_confid_assets
unset -f _confid_assets

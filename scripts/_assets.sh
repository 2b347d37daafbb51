# Sourced by scripts/run and scripts/test after _bootstrap.sh: build self-hosted GraphiQL and
# the admin page's sign-in module (bundled oidc-client-ts).
# With Node.js 18+ and npm: `npm ci` in web/ and an esbuild bundle into app/web/static/build/,
# redone only when web/ changed. Without Node.js confid serves GraphiQL from a public CDN
# (and logs so); the admin page at / needs no build, only its sign-in with an identity
# provider does (pasting a token works either way).
_confid_assets() {
  local web="$ROOT/web" out="$ROOT/app/web/static/build"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js not found: GraphiQL will load from a public CDN (install Node.js 18+ and npm to self-host it)" >&2
    return 0
  fi
  if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "Node.js $(node --version) is older than 18: GraphiQL will load from a public CDN" >&2
    return 0
  fi
  local want deps
  deps="$(cat "$web/package.json" "$web/package-lock.json" | sha256sum | cut -d' ' -f1)"
  want="$(cd "$web" && cat package.json package-lock.json build.mjs graphiql/* signin/* admin/token.js admin-vendor/* | sha256sum | cut -d' ' -f1)"
  if [ -f "$out/manifest.json" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$want" ]; then
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

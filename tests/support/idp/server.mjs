// A real OpenID provider for confid's tests: panva's OpenID Certified `oidc-provider`,
// configured from a JSON file and served on a loopback port.
//
//   node tests/support/idp/server.mjs config.json
//
// config.json (written by tests/support/idp/__init__.py):
//   issuer     "http://127.0.0.1:<port>" (the port is taken from it)
//   jwks       the provider's private signing keys, {"keys": [...]}, in keystore order
//   clients    client metadata (RFC 7591 names), e.g. a public PKCE client for the admin page
//   accounts   {"<login>": {"claims": {...}, "token_claims": {...}}}: `claims` go in the ID
//              token and userinfo, `token_claims` (roles, groups, usernames) in access tokens
//   resources  {"<resource indicator>": {"audience", "alg", "kid"?, "scope", "ttl"?}}: each
//              resource gets JWT access tokens (RFC 9068) for its audience, signed as given
//
// Once listening it prints one line, `ready <issuer>`, on stdout. `GET /_harness/stats`
// counts the requests made to discovery and the JWKS, so tests can prove confid does not
// fetch keys per request. Login uses the provider's own development interactions: a form
// with `login` and `password` (any password), then a consent form; both are plain HTML that
// a headless browser can fill.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = new URL(config.issuer);
const accounts = config.accounts ?? {};
const resources = config.resources ?? {};
const counts = { discovery: 0, jwks: 0, token: 0 };

const origins = new Set(
  (config.clients ?? []).flatMap((c) => (c.redirect_uris ?? []).map((u) => new URL(u).origin)),
);

const provider = new Provider(config.issuer, {
  clients: config.clients ?? [],
  jwks: config.jwks,
  cookies: { keys: ["confid-test-idp-cookie-key"] },
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email"],
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf ?? Object.keys(resources)[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        const rs = resources[indicator];
        if (!rs) throw new Provider.errors.InvalidTarget();
        const sign = { alg: rs.alg };
        if (rs.kid) sign.kid = rs.kid;
        return {
          audience: rs.audience,
          scope: rs.scope,
          accessTokenTTL: rs.ttl ?? 300,
          accessTokenFormat: "jwt",
          jwt: { sign },
        };
      },
    },
  },
  // The admin page will call the token endpoint from its own origin (groundwork for the
  // browser sign-in): allow exactly the origins of registered redirect URIs.
  clientBasedCORS: (ctx, origin) => origins.has(origin),
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, ...(accounts[id]?.claims ?? {}) }),
  }),
  extraTokenClaims: (ctx, token) => {
    if (!token.accountId) return undefined;
    return accounts[token.accountId]?.token_claims;
  },
  // As Entra ID (single-page application platform), Okta (refresh token grant allowed) and
  // Keycloak do: a public client allowed the refresh_token grant gets a refresh token
  // without asking for `offline_access`, which the admin page's silent renewal uses.
  issueRefreshToken: (ctx, client) => client.grantTypeAllowed("refresh_token"),
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60 },
  renderError: (ctx, out) => {
    ctx.type = "json";
    ctx.body = out;
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.path === "/_harness/stats") {
    ctx.type = "json";
    ctx.body = counts;
    return;
  }
  if (ctx.path === "/.well-known/openid-configuration") counts.discovery += 1;
  if (ctx.path === "/jwks") counts.jwks += 1;
  if (ctx.path === "/token") counts.token += 1;
  await next();
});

const server = provider.listen(Number(issuer.port), issuer.hostname, () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

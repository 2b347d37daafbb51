// Sign-in with the organisation's OpenID provider, shared by the admin page (which loads
// this module's bundle, /static/build/signin/signin.js) and GraphiQL (which bundles it).
//
// Authorization Code with PKCE by oidc-client-ts, configured from GET /auth/config. confid
// is a public client: no secret, the code exchanged from the page itself. The admin page
// (`/`) is the one redirect URI, for GraphiQL too (it comes back via `returnTo`). Tokens
// and the sign-in's interaction state live in this tab's session storage only. A minute
// before the access token expires it is renewed with the refresh token the provider issues
// to single-page clients, never through a hidden iframe (the pages' CSP allows no frames).
// When the provider refuses the renewal, or issued no refresh token and the access token
// expires, the sign-in ends and the page says so.
import { UserManager, WebStorageStateStore } from "oidc-client-ts";

const RETURN_PATHS = new Set(["/", "/graphql"]);

/** The sign-in with the provider named by `/auth/config`'s `oidc` object. */
export function providerSignIn(config, { origin = window.location.origin } = {}) {
  return new ProviderSignIn(config, origin);
}

/** The provider's host, for buttons and messages ("login.microsoftonline.com"). */
export function providerName(issuer) {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

class ProviderSignIn {
  constructor(config, origin) {
    const store = new WebStorageStateStore({ store: window.sessionStorage });
    this.issuer = config.issuer;
    this.name = providerName(config.issuer);
    this.manager = new UserManager({
      authority: config.issuer,
      client_id: config.clientId,
      scope: config.scopes,
      redirect_uri: `${origin}/`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: "code",
      userStore: store,
      stateStore: store, // the PKCE verifier too: never in local storage
      automaticSilentRenew: false, // renewed below, by refresh token only
      silent_redirect_uri: "", // so that oidc-client-ts never falls back to an iframe
      loadUserInfo: false,
      monitorSession: false,
      revokeTokensOnSignout: false,
    });
    this.endedListeners = [];
    this.manager.clearStaleState().catch(() => {});
    this.manager.events.addAccessTokenExpiring(() => this.renew());
    this.manager.events.addAccessTokenExpired(async () => {
      const user = await this.manager.getUser();
      if (user && !user.expired) return; // renewed meanwhile
      await this.finish(`Signed out: your sign-in with ${this.name} has expired. Sign in again.`);
    });
  }

  /** Renew the access token with the refresh token, if the provider issued one. */
  async renew() {
    const user = await this.manager.getUser();
    if (!user || !user.refresh_token) return; // it will expire, and the page will say so
    try {
      await this.manager.signinSilent();
    } catch (error) {
      await this.finish(
        `Signed out: ${this.name} did not renew your sign-in (${describe(error)}). Sign in again.`,
      );
    }
  }

  async finish(message) {
    await this.manager.removeUser();
    for (const ended of this.endedListeners) ended(message);
  }

  /** True when the URL is the provider's answer to a sign-in (`?code=…&state=…`). */
  isCallback(url = window.location.href) {
    const params = new URL(url).searchParams;
    return params.has("state") && (params.has("code") || params.has("error"));
  }

  /**
   * Finish a sign-in at the redirect URI: exchange the code (with the PKCE verifier) and
   * keep the tokens. Resolves to {token, returnTo}; rejects with a readable Error.
   */
  async complete(url = window.location.href) {
    let user;
    try {
      user = await this.manager.signinRedirectCallback(url);
    } catch (error) {
      throw new Error(`The sign-in did not complete: ${describe(error, this.name)}.`);
    }
    const wanted = user.state && typeof user.state.returnTo === "string" ? user.state.returnTo : "/";
    return { token: user.access_token, returnTo: RETURN_PATHS.has(wanted) ? wanted : "/" };
  }

  /** Go to the provider's sign-in page; come back to `returnTo` ("/" or "/graphql"). */
  async start({ returnTo = "/" } = {}) {
    await this.manager.signinRedirect({ state: { returnTo } });
  }

  /**
   * The access token of the person signed in in this tab, renewed first when it has
   * expired; null when nobody is signed in or the sign-in can no longer be renewed.
   */
  async token() {
    const user = await this.manager.getUser();
    if (!user) return null;
    if (!user.expired) return user.access_token;
    try {
      const renewed = await this.manager.signinSilent();
      return renewed ? renewed.access_token : null;
    } catch {
      await this.manager.removeUser();
      return null;
    }
  }

  /** Forget the person's tokens in this tab (the provider's own session is left alone). */
  async end() {
    await this.manager.removeUser();
  }

  /** Call `renewed(token)` whenever a new access token arrives (silent renewal). */
  onRenewed(renewed) {
    this.manager.events.addUserLoaded((user) => renewed(user.access_token));
  }

  /** Call `ended(message)` when the sign-in ends by itself (renewal refused, expiry). */
  onEnded(ended) {
    this.endedListeners.push(ended);
  }
}

/** What went wrong, from an oidc-client-ts error or the provider's error response. */
function describe(error, provider = null) {
  if (!error) return "unknown error";
  if (error.error) {
    const detail = error.error_description ? `: ${error.error_description}` : "";
    return provider ? `${provider} answered ${error.error}${detail}` : `${error.error}${detail}`;
  }
  return error.message || String(error);
}

// Sign-in with the organisation's identity provider on the admin page, when confid is set up
// for it (GET /auth/config names the provider). The OpenID Connect work is the bundled
// sign-in module (oidc-client-ts, /static/build/signin/signin.js, named by the build's
// manifest), imported only then: the rest of the page stays plain modules with no build,
// and pasting a token (for static tokens) works with or without it.
//
// The page itself is the redirect URI: it finishes a sign-in the provider sends back
// (`/?code=…&state=…`), removes the code from the address bar at once, and returns to
// GraphiQL when the sign-in started there.
import { byId, fill, h } from "./dom.js";

let provider = null;

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-cache", credentials: "omit" });
  return response.ok ? response.json() : null;
}

/** The provider's sign-in (the bundled module), or null when none is configured. */
async function loadProvider() {
  const config = await fetchJson("/auth/config");
  if (!config || !config.oidc) return null;
  const manifest = await fetchJson("/static/build/manifest.json");
  if (!manifest || typeof manifest.signin !== "string") {
    throw new Error(
      "confid is set up for sign-in with an identity provider, but its web assets are not " +
        "built (scripts/run builds them with Node.js 18+). Paste a token instead.",
    );
  }
  const url = `/static/build/${manifest.signin}?v=${encodeURIComponent(manifest.version)}`;
  const module = await import(url);
  return module.providerSignIn(config.oidc);
}

function showButton() {
  const box = byId("provider-sign-in");
  fill(
    box,
    h(
      "button",
      {
        type: "button",
        id: "provider-button",
        class: "primary",
        onclick: () => {
          problem(null);
          provider.start({ returnTo: "/" }).catch((error) => problem(error.message));
        },
      },
      `Sign in with ${provider.name}`,
    ),
    h("p", { id: "provider-error", class: "error", role: "alert", hidden: true }),
    h("p", { class: "or" }, "or, for a service account or script token:"),
  );
  box.hidden = false;
}

function problem(message) {
  const box = document.getElementById("provider-error");
  const target = box || byId("sign-in-error");
  if (!message) {
    if (box) box.hidden = true;
    return;
  }
  fill(target, message);
  target.hidden = false;
}

/**
 * Set up the provider's sign-in. Resolves to the access token of a person signed in in
 * this tab (finishing a sign-in the provider has just sent back), or null. `renewed(token)`
 * is called with each renewed token, `ended(message)` when the sign-in ends by itself.
 */
export async function startSignIn({ renewed, ended }) {
  try {
    provider = await loadProvider();
  } catch (error) {
    byId("provider-sign-in").hidden = true;
    problem(`Sign-in with the identity provider is unavailable: ${error.message}`);
    return null;
  }
  if (!provider) return null;
  showButton();
  provider.onRenewed(renewed);
  provider.onEnded(ended);
  if (provider.isCallback()) {
    const url = window.location.href;
    window.history.replaceState(null, "", "/"); // the code never stays in the address bar
    try {
      const { token, returnTo } = await provider.complete(url);
      if (returnTo !== "/") {
        window.location.replace(returnTo);
        return new Promise(() => {}); // the page is going away
      }
      return token;
    } catch (error) {
      problem(error.message);
      return null;
    }
  }
  return provider.token();
}

/** Forget the person's tokens in this tab (sign out of confid, not of the provider). */
export async function endProviderSignIn() {
  if (provider) await provider.end();
}

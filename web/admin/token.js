// The bearer token pasted in this browser tab, shared by the admin page and GraphiQL (which
// bundles this module): session storage only, so it is gone when the tab closes and never
// reaches local storage, cookies or a URL. A person signed in through the identity provider
// has no pasted token: their tokens are kept by the sign-in module (also session storage).

const KEY = "confid.token";

/** The pasted token, or null. */
export function pastedToken() {
  try {
    return window.sessionStorage.getItem(KEY) || null;
  } catch {
    return null; // storage disabled: the page still works for this visit
  }
}

/** Keep a pasted token for this tab (an empty one forgets it). */
export function keepToken(token) {
  const value = (token || "").trim();
  try {
    if (value) window.sessionStorage.setItem(KEY, value);
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: nothing to keep it in
  }
}

/** Forget the pasted token. */
export function forgetToken() {
  keepToken("");
}

// One token for all of GraphiQL: every tab, the explorer and the docs (introspection) send
// the same `Authorization: Bearer …`, taken from (in this order)
//   1. the tab's own Headers pane, when it names a token (to try another role in one tab);
//   2. the person signed in with the identity provider in this browser tab (renewed);
//   3. the token pasted once: in the bar above GraphiQL, in any tab's Headers pane, or on
//      the admin page in this browser tab (all share ../admin/token.js: session storage).
// Without any, the request goes out without a token and confid answers what to do.
import { createElement as h, useEffect, useRef, useState } from "react";
import { forgetToken, keepToken, pastedToken } from "../admin/token.js";
import { providerSignIn } from "../signin/session.js";

const VIEWER = "query GraphiQLViewer { viewer { name role } }";

/** Where the token comes from, and who is told when it changes. */
export class TokenSource {
  constructor() {
    this.signIn = null; // the provider's sign-in, when /auth/config names one
    this.ended = null; // why the provider's sign-in ended, shown once
    this.listeners = new Set();
  }

  /** Learn from confid whether a provider sign-in is configured (never throws). */
  async configure() {
    try {
      const response = await fetch("/auth/config", { cache: "no-cache", credentials: "omit" });
      const config = response.ok ? await response.json() : null;
      if (config?.oidc) {
        this.signIn = providerSignIn(config.oidc);
        this.signIn.onRenewed(() => this.changed());
        this.signIn.onEnded((message) => {
          this.ended = message;
          this.changed();
        });
      }
    } catch {
      // no sign-in configuration: pasting a token still works
    }
    this.changed();
  }

  /** {token, kind: "provider"|"pasted"} or null. */
  async current() {
    const fromProvider = this.signIn ? await this.signIn.token() : null;
    if (fromProvider) return { token: fromProvider, kind: "provider" };
    const pasted = pastedToken();
    return pasted ? { token: pasted, kind: "pasted" } : null;
  }

  /** Keep a pasted token for every tab (an empty one forgets it). */
  paste(token) {
    const value = (token || "").trim();
    if (value === (pastedToken() || "")) return;
    keepToken(value);
    this.ended = null;
    this.changed();
  }

  /** A token found in a tab's Headers pane becomes everyone's, unless one is already set. */
  async adopt(token) {
    if (!(await this.current())) this.paste(token);
  }

  async signOut() {
    forgetToken();
    if (this.signIn) await this.signIn.end();
    this.changed();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    for (const listener of this.listeners) listener();
  }
}

/** The bearer token in a headers object (or JSON text), or null when there is none. */
export function tokenIn(headers) {
  let value = headers;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!value || typeof value !== "object") return null;
  const entry = Object.entries(value).find(([name]) => name.toLowerCase() === "authorization");
  const match = entry && /^Bearer\s+(\S+)\s*$/i.exec(String(entry[1]));
  return match ? match[1] : null;
}

/** A GraphiQL fetcher that sends the shared token unless the tab names its own. */
export function withToken(fetchGraphQL, source) {
  return async (params, options = {}) => {
    const headers = { ...(options.headers || {}) };
    const own = tokenIn(headers);
    if (own) {
      await source.adopt(own);
    } else {
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase() === "authorization") delete headers[name]; // an empty `Bearer `
      }
      const current = await source.current();
      if (current) headers.Authorization = `Bearer ${current.token}`;
    }
    return fetchGraphQL(params, { ...options, headers });
  };
}

/** Who confid says the token is: {name, role} or {error}. */
async function whoIs(token) {
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: VIEWER }),
      credentials: "omit",
      cache: "no-store",
    });
    const body = await response.json();
    if (body?.data?.viewer) return body.data.viewer;
    return { error: body?.errors?.[0]?.message || `HTTP ${response.status}` };
  } catch (error) {
    return { error: error.message };
  }
}

/** The bar above GraphiQL: paste the token once, or sign in with the provider. */
export function TokenBar({ source }) {
  const [state, setState] = useState({ kind: null, who: null, ended: null });
  const [draft, setDraft] = useState(pastedToken() || "");
  const serial = useRef(0);

  useEffect(() => {
    const refresh = async () => {
      const mine = ++serial.current;
      const current = await source.current();
      const who = current ? await whoIs(current.token) : null;
      if (mine !== serial.current) return;
      setState({ kind: current?.kind || null, who, ended: source.ended });
      setDraft(pastedToken() || "");
    };
    refresh();
    return source.subscribe(refresh);
  }, [source]);

  const provider = source.signIn;
  const signedIn = state.kind === "provider";
  const status = !state.kind
    ? h("span", { className: "confid-token-status", id: "token-status" },
        state.ended || "No token yet: paste yours once, every tab uses it.")
    : state.who?.error
      ? h("span", { className: "confid-token-status confid-token-error", id: "token-status",
                    role: "alert" }, `confid refused this token: ${state.who.error}`)
      : h("span", { className: "confid-token-status", id: "token-status" },
          signedIn ? `Signed in with ${provider.name} as ` : "Every tab uses this token: ",
          h("strong", null, state.who?.name || "…"),
          state.who?.role ? ` (${state.who.role})` : "");

  return h(
    "div",
    { className: "confid-token-bar", role: "region", "aria-label": "Token" },
    signedIn
      ? null
      : h(
          "form",
          {
            className: "confid-token-form",
            onSubmit: (event) => {
              event.preventDefault();
              source.paste(draft);
            },
          },
          h("label", { htmlFor: "confid-token" }, "Bearer token"),
          h("input", {
            id: "confid-token",
            type: "password",
            autoComplete: "off",
            spellCheck: false,
            placeholder: "paste your token: every tab, the explorer and the docs use it",
            value: draft,
            onChange: (event) => setDraft(event.target.value),
            onPaste: (event) => {
              const text = event.clipboardData?.getData("text") || "";
              if (text.trim()) {
                event.preventDefault();
                setDraft(text.trim());
                source.paste(text);
              }
            },
            onBlur: () => source.paste(draft),
          }),
          h("button", { type: "submit", className: "confid-token-use" }, "Use"),
        ),
    status,
    state.kind
      ? h(
          "button",
          { type: "button", className: "confid-token-forget", onClick: () => source.signOut() },
          signedIn ? "Sign out" : "Forget token",
        )
      : null,
    provider && !signedIn
      ? h(
          "button",
          {
            type: "button",
            className: "confid-token-provider",
            onClick: () => provider.start({ returnTo: "/graphql" }),
          },
          `Sign in with ${provider.name}`,
        )
      : null,
  );
}

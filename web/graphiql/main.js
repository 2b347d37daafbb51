// confid's GraphiQL: the IDE, the explorer plugin and the example operations as tabs, under
// a bar that takes the token once for all of them (./token.js).
import "./workers.js";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./page.css";

import { explorerPlugin } from "@graphiql/plugin-explorer";
import { useGraphiQL, useGraphiQLActions } from "@graphiql/react";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement as h, StrictMode, useEffect, useRef } from "react";
import { createRoot } from "react-dom/client";
import { TokenBar, TokenSource, tokenIn, withToken } from "./token.js";

// The server writes the page's settings into a JSON block (data, not script: the CSP holds).
function readConfig() {
  const node = document.getElementById("confid-graphiql-config");
  const config = node ? JSON.parse(node.textContent || "{}") : {};
  return {
    endpoint: config.endpoint || "/graphql",
    headers: config.headers || "",
    tabs: Array.isArray(config.tabs) ? config.tabs : [],
  };
}

// Session storage, not local storage: the headers carry a bearer token, which should not
// outlive the browser session (the admin page keeps its token the same way).
const sessionStore = {
  getItem: (key) => window.sessionStorage.getItem(key),
  setItem: (key, value) => window.sessionStorage.setItem(key, value),
  removeItem: (key) => window.sessionStorage.removeItem(key),
  clear: () => window.sessionStorage.clear(),
  get length() {
    return window.sessionStorage.length;
  },
};

const config = readConfig();
const url = new URL(config.endpoint, window.location.href).href;
const tabs = config.tabs.map((tab) => ({
  query: tab.query,
  variables: tab.variables || null,
  headers: config.headers,
}));
// confid's answer to a request without a token starts so (app/api/auth.py, NO_TOKEN).
const NO_TOKEN = "No token yet";
const tokens = new TokenSource();

/**
 * Rendered inside GraphiQL (as its logo, a link to the admin page): whenever the token
 * changes (the bar, a sign-in, a token pasted into a tab's Headers pane), load the schema
 * with it, and drop the no-token answer once the schema is there.
 */
function Logo() {
  const { introspect } = useGraphiQLActions();
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const schema = useGraphiQL((state) => state.schema);
  const responseEditor = useGraphiQL((state) => state.responseEditor);
  const lastToken = useRef(null);

  useEffect(() => tokens.subscribe(() => introspect()), [introspect]);

  useEffect(() => {
    if (!headerEditor) return undefined;
    let timer = 0;
    const check = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        const token = tokenIn(headerEditor.getValue());
        if (token && token !== lastToken.current) {
          lastToken.current = token;
          introspect();
        }
      }, 300);
    };
    const subscription = headerEditor.onDidChangeModelContent(check);
    return () => {
      window.clearTimeout(timer);
      subscription.dispose();
    };
  }, [headerEditor, introspect]);

  useEffect(() => {
    if (schema && responseEditor?.getValue().includes(NO_TOKEN)) responseEditor.setValue("");
  }, [schema, responseEditor]);

  return h("a", { className: "confid-logo", href: "/", title: "confid admin page" }, "confid");
}

// Subscriptions go over a websocket to the same /graphql (graphql-transport-ws, with
// graphql-ws); the toolkit sends the request's headers (the tab's, or the shared token
// added by withToken) as the connection_init payload, where confid reads
// {"Authorization": "Bearer <token>"}.
const subscriptionUrl = url.replace(/^http/, "ws");
const fetcher = withToken(createGraphiQLFetcher({ url, subscriptionUrl }), tokens);
const explorer = explorerPlugin();

const ide = h(
  GraphiQL,
  {
    fetcher,
    plugins: [explorer],
    defaultTabs: tabs.length ? tabs : undefined,
    defaultHeaders: config.headers,
    defaultEditorToolsVisibility: "variables",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    showPersistHeadersSettings: false,
    storage: sessionStore,
  },
  h(GraphiQL.Logo, null, h(Logo)),
);

const container = document.getElementById("graphiql");
container.textContent = "";
createRoot(container).render(
  h(
    StrictMode,
    null,
    h(TokenBar, { source: tokens }),
    h("div", { className: "confid-ide" }, ide),
  ),
);
tokens.configure();

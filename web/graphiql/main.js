// confid's GraphiQL: the IDE, the explorer plugin and the example operations as tabs.
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

const DEFAULT_HEADERS = '{\n  "Authorization": "Bearer "\n}';

// The server writes the page's settings into a JSON block (data, not script: the CSP holds).
function readConfig() {
  const node = document.getElementById("confid-graphiql-config");
  const config = node ? JSON.parse(node.textContent || "{}") : {};
  return {
    endpoint: config.endpoint || "/graphql",
    headers: config.headers || DEFAULT_HEADERS,
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
const NO_TOKEN =
  "confid needs a token for every request, the schema included: paste yours after " +
  "`Bearer ` in the Headers pane below. The schema (docs, explorer, completion) loads " +
  "as soon as you do.";

/** The bearer token in a headers object (or JSON text), or null when there is none yet. */
function tokenIn(headers) {
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

// Subscriptions go over a websocket to the same /graphql (graphql-transport-ws, with
// graphql-ws); the toolkit sends the Headers pane as the connection_init payload, which is
// where confid reads {"Authorization": "Bearer <token>"}.
const subscriptionUrl = url.replace(/^http/, "ws");

// Without a token, introspection would only earn a 401: say what to do instead.
function makeFetcher() {
  const fetchGraphQL = createGraphiQLFetcher({ url, subscriptionUrl });
  return (params, options) => {
    if (params.operationName === "IntrospectionQuery" && !tokenIn(options?.headers)) {
      return Promise.resolve({ errors: [{ message: NO_TOKEN }] });
    }
    return fetchGraphQL(params, options);
  };
}

/**
 * Rendered inside GraphiQL (as its logo, a link to the admin page): once a new token is
 * pasted into the Headers pane, load the schema with it, and drop the no-token hint.
 */
function Logo() {
  const { introspect } = useGraphiQLActions();
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const schema = useGraphiQL((state) => state.schema);
  const responseEditor = useGraphiQL((state) => state.responseEditor);
  const lastToken = useRef(null);

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

const fetcher = makeFetcher();
const explorer = explorerPlugin();

const ide = h(
  GraphiQL,
  {
    fetcher,
    plugins: [explorer],
    defaultTabs: tabs.length ? tabs : undefined,
    defaultHeaders: config.headers,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    showPersistHeadersSettings: false,
    storage: sessionStore,
  },
  h(GraphiQL.Logo, null, h(Logo)),
);

const container = document.getElementById("graphiql");
container.textContent = "";
createRoot(container).render(h(StrictMode, null, ide));

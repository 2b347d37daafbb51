// The Activity view (admin, auditor): conference-ID changes per day as a chart and a table,
// and a live feed of new audit entries from the auditEventAppended subscription.
//
// The chart (Chart.js) and the websocket client (graphql-ws) come from
// /static/build/admin/vendor.js, built by scripts/run and scripts/test from web/package.json;
// without that build the view shows the table and says the chart and feed are unavailable.
import { byId, fill, h } from "./dom.js";
import { auditItem } from "./views.js";

const VENDOR = "/static/build/admin/vendor.js";
const FEED_MAX = 30; // entries kept on screen
const DAY = 24 * 60 * 60 * 1000;

export const ACTIVITY = `
query AdminActivity($from: DateTime!) {
  conferenceIdActivity(from: $from, interval: DAY) {
    start enabled set reset sendInfo rejected
  }
  auditEvents(first: 10) {
    edges { node { ...AdminLiveEvent } }
  }
}
fragment AdminLiveEvent on AuditEvent {
  id sequence occurredAt action outcome errorCodes previousConferenceId newConferenceId
  actor { name role } reason recipients toNonPrimaryAddress user { displayName }
}`;

const LIVE = `
subscription AdminLiveFeed($afterSequence: Int) {
  auditEventAppended(afterSequence: $afterSequence) { ...AdminLiveEvent }
}
fragment AdminLiveEvent on AuditEvent {
  id sequence occurredAt action outcome errorCodes previousConferenceId newConferenceId
  actor { name role } reason recipients toNonPrimaryAddress user { displayName }
}`;

// One colour per series, with enough contrast on white; refusals stand out in red.
const SERIES = [
  { key: "enabled", label: "Enabled", color: "#1a7f37" },
  { key: "set", label: "Set by hand", color: "#8250df" },
  { key: "reset", label: "Reset", color: "#1f4e8c" },
  { key: "sendInfo", label: "Info sent", color: "#b7791f" },
  { key: "rejected", label: "Refused", color: "#b42318" },
];

const view = {
  call: null, // (query, variables) -> data, with the page's token and error handling
  token: null,
  days: 14,
  buckets: [],
  chart: null,
  vendor: null,
  client: null,
  stop: null, // ends the live subscription
  lastSequence: 0,
  paused: false,
  held: [], // entries that arrived while the feed was paused
};

/** Show the view for a signed-in reader of the trail. */
export async function showActivity(call, token) {
  view.call = call;
  view.token = token;
  renderFrame();
  await load();
}

/** Leave the view: the subscription ends, the socket closes. */
export function hideActivity() {
  view.stop?.();
  view.stop = null;
  view.client?.dispose();
  view.client = null;
  view.chart?.destroy();
  view.chart = null;
  view.held = [];
}

function rangeStart() {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - (view.days - 1) * DAY).toISOString();
}

async function load() {
  const status = byId("activity-status");
  fill(status, "Loading activity…");
  let data;
  try {
    data = await view.call(ACTIVITY, { from: rangeStart() });
  } catch (error) {
    fill(status, h("span", { class: "error", role: "alert" }, error.message));
    return;
  }
  view.buckets = data.conferenceIdActivity;
  const recent = data.auditEvents.edges.map((edge) => edge.node);
  view.lastSequence = Math.max(0, ...recent.map((event) => event.sequence));
  fill(byId("live-feed"), recent.map(feedItem));
  fill(status, "");
  renderTable();
  view.vendor = await loadVendor();
  if (!view.vendor) {
    fill(
      byId("chart-note"),
      "The chart and the live feed need confid's built web assets (Node.js at install time); " +
        "the table below has the same numbers.",
    );
    fill(byId("live-status"), "Live feed unavailable.");
    return;
  }
  renderChart();
  startLive();
}

async function loadVendor() {
  try {
    return await import(VENDOR);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the frame

function renderFrame() {
  fill(
    byId("activity"),
    h("h1", { id: "activity-title", tabindex: "-1" }, "Activity"),
    h(
      "p",
      { class: "muted" },
      "Conference-ID changes and refusals per day (UTC), counted by confid from the audit " +
        "trail, and new audit entries as they happen.",
    ),
    h(
      "div",
      { class: "activity-range", role: "group", "aria-label": "Days shown" },
      [7, 14, 30].map((days) =>
        h(
          "button",
          {
            type: "button",
            class: "range-button",
            "aria-pressed": String(days === view.days),
            dataset: { days },
            onclick: () => setDays(days),
          },
          `${days} days`,
        ),
      ),
    ),
    h("p", { id: "activity-status", class: "muted", "aria-live": "polite" }),
    h(
      "figure",
      { class: "chart-figure" },
      h(
        "div",
        { class: "chart-box" },
        h("canvas", {
          id: "activity-chart",
          role: "img",
          "aria-label": "Bar chart of changes per day; the same numbers are in the table below.",
        }),
      ),
      h("figcaption", { id: "chart-note", class: "muted" }),
    ),
    h(
      "details",
      { id: "activity-numbers" },
      h("summary", null, "Show the numbers"),
      h("div", { id: "activity-table", class: "table-wrap" }),
    ),
    h(
      "section",
      { class: "live", "aria-labelledby": "live-title" },
      h("h2", { id: "live-title" }, "Live feed"),
      h(
        "div",
        { class: "live-controls" },
        h("p", { id: "live-status", class: "muted", "aria-live": "polite" }, "Connecting…"),
        h(
          "button",
          { type: "button", id: "live-pause", "aria-pressed": "false", onclick: togglePause },
          "Pause",
        ),
      ),
      h("ol", { id: "live-feed", class: "events live-feed", "aria-live": "polite" }),
    ),
  );
}

async function setDays(days) {
  if (days === view.days) return;
  view.days = days;
  for (const button of document.querySelectorAll(".range-button")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.days) === days));
  }
  try {
    const data = await view.call(ACTIVITY, { from: rangeStart() });
    view.buckets = data.conferenceIdActivity;
  } catch (error) {
    fill(byId("activity-status"), h("span", { class: "error", role: "alert" }, error.message));
    return;
  }
  renderTable();
  renderChart();
}

// ---------------------------------------------------------------- chart and table

const dayLabel = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});

function label(bucket) {
  return dayLabel.format(new Date(bucket.start));
}

function renderTable() {
  fill(
    byId("activity-table"),
    h(
      "table",
      { class: "numbers" },
      h("caption", { class: "muted" }, `Per day (UTC), the last ${view.days} days`),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, "Day"),
          SERIES.map((series) => h("th", { scope: "col" }, series.label)),
        ),
      ),
      h(
        "tbody",
        null,
        view.buckets.map((bucket) =>
          h(
            "tr",
            { dataset: { start: bucket.start } },
            h("th", { scope: "row" }, label(bucket)),
            SERIES.map((series) => h("td", { dataset: { key: series.key } }, bucket[series.key])),
          ),
        ),
      ),
    ),
  );
}

function renderChart() {
  if (!view.vendor) return;
  const canvas = byId("activity-chart");
  const data = {
    labels: view.buckets.map(label),
    datasets: SERIES.map((series) => ({
      label: series.label,
      data: view.buckets.map((bucket) => bucket[series.key]),
      backgroundColor: series.color,
      stack: series.key === "rejected" ? "refused" : "changes",
    })),
  };
  if (view.chart) {
    view.chart.data = data;
    view.chart.update();
    return;
  }
  view.chart = new view.vendor.Chart(canvas, {
    type: "bar",
    data,
    options: {
      animation: false, // new entries redraw at once; nothing moves by itself
      maintainAspectRatio: false,
      responsive: true,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

/** Count a new entry into today's bar (and row) without asking the server again. */
function countIn(event) {
  const last = view.buckets[view.buckets.length - 1];
  if (!last) return;
  const at = Date.parse(event.occurredAt);
  const start = Date.parse(last.start);
  if (at < start || at >= start + DAY) return; // another day: the next load counts it
  const key =
    event.outcome === "REJECTED"
      ? "rejected"
      : { ASSIGN: "enabled", SET: "set", RESET: "reset", SEND_INFO: "sendInfo" }[event.action];
  if (!key) return;
  last[key] += 1;
  renderTable();
  renderChart();
}

// ---------------------------------------------------------------- the live feed

function feedItem(event) {
  const item = auditItem(event);
  item.classList.add("live-item");
  const who = event.user?.displayName;
  if (who) item.querySelector(".event-head")?.append(" ", h("span", { class: "muted" }, who));
  return item;
}

function startLive() {
  const url = new URL("/graphql", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const status = byId("live-status");
  view.client = view.vendor.createClient({
    url: url.href,
    connectionParams: { Authorization: `Bearer ${view.token}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !(event && [4401, 4403].includes(event.code)),
    on: {
      connected: () => fill(status, "Live: new entries appear here as they happen."),
      closed: (event) => {
        if (view.client) fill(status, `Reconnecting… ${event?.reason || ""}`.trim());
      },
    },
  });
  // After a reconnection the client subscribes again with these variables, so entries
  // up to `lastSequence` may come twice: the feed keeps each sequence once.
  view.stop = view.client.subscribe(
    { query: LIVE, variables: { afterSequence: view.lastSequence } },
    {
      next: (result) => {
        const event = result.data?.auditEventAppended;
        if (event) arrived(event);
        if (result.errors?.length) fill(status, result.errors[0].message);
      },
      error: (error) => {
        const reason = error?.reason || error?.message || (Array.isArray(error) ? error[0]?.message : "");
        fill(status, h("span", { class: "error" }, `Live feed stopped: ${reason || "error"}`));
      },
      complete: () => {},
    },
  );
}

function arrived(event) {
  if (event.sequence <= view.lastSequence) return;
  view.lastSequence = event.sequence;
  countIn(event);
  if (view.paused) {
    view.held.push(event);
    const n = view.held.length;
    fill(byId("live-status"), `Paused: ${n} new ${n === 1 ? "entry" : "entries"} waiting.`);
    return;
  }
  show([event]);
}

function show(events) {
  const list = byId("live-feed");
  for (const event of events) list.prepend(feedItem(event));
  while (list.children.length > FEED_MAX) list.lastElementChild.remove();
}

function togglePause() {
  view.paused = !view.paused;
  const button = byId("live-pause");
  button.setAttribute("aria-pressed", String(view.paused));
  fill(button, view.paused ? "Resume" : "Pause");
  if (!view.paused) {
    show(view.held);
    view.held = [];
    fill(byId("live-status"), "Live: new entries appear here as they happen.");
  }
}

/** Whether a role may open the view (the server decides; this only hides the tab). */
export function mayWatch(role) {
  return role === "ADMIN" || role === "AUDITOR";
}


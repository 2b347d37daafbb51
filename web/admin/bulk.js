// The "Bulk reset" view (admins): paste leaked IDs or emails, preview, confirm with a
// reason, follow the job with a progress bar, read its result list, cancel it.
import { byId, fill, h, time } from "./dom.js";
import { onView } from "./nav.js";
import { errorList } from "./views.js";

const POLL_MS = 1000;
const RESULTS_PAGE = 100;
const PREVIEW_ROWS = 10000;
const SELECTORS_MAX = 10000;
const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

const JOB_FIELDS = `
fragment BulkJobFields on BulkResetJob {
  id incidentId status total done failed skipped processed reason sendEmail
  createdBy { name role } createdAt startedAt finishedAt cancelRequested error
}`;

const PREVIEW = `
query AdminPreviewBulkReset($selection: BulkResetSelectionInput!, $first: Int!) {
  previewBulkReset(input: $selection) {
    count skippedCount
    users(first: $first) { id displayName email audioConferencing { conferenceId } }
    skipped(first: $first) { selector reason message user { id displayName email } }
  }
}`;

const START = `
mutation AdminStartBulkReset($input: StartBulkResetInput!) {
  startBulkReset(input: $input) {
    job { ...BulkJobFields }
    auditEvent { sequence action outcome }
    userErrors { field message code rule }
  }
}
${JOB_FIELDS}`;

const JOB = `
query AdminBulkResetJob($id: ID!, $first: Int, $after: String) {
  bulkResetJob(id: $id) {
    ...BulkJobFields
    results(first: $first, after: $after) {
      totalCount
      edges { node {
        index outcome selector skipReason errorCodes previousConferenceId newConferenceId
        user { id displayName email }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
${JOB_FIELDS}`;

const JOBS = `
query AdminBulkResetJobs($first: Int) {
  bulkResetJobs(first: $first) { edges { node { ...BulkJobFields } } }
}
${JOB_FIELDS}`;

const CANCEL = `
mutation AdminCancelBulkReset($id: ID!) {
  cancelBulkReset(id: $id) {
    job { ...BulkJobFields }
    userErrors { field message code rule }
  }
}
${JOB_FIELDS}`;

const STATUS_WORDS = {
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

const OUTCOME_WORDS = {
  RESET: "Reset",
  SKIPPED: "Skipped",
  FAILED: "Refused",
  PENDING: "Waiting",
  NOT_RUN: "Not run",
};

const SKIP_WORDS = {
  NOT_ENABLED: "Not enabled for audio conferencing: no ID to reset",
  UNKNOWN_ID: "Unknown conference ID: nobody holds it and it was never assigned",
  UNKNOWN_USER: "No user has this email address",
  ALREADY_RETIRED: "Already retired: the ID reaches nobody any more",
};

// ---------------------------------------------------------------- pasted text

/** The pasted text as conference IDs and emails; anything else is a problem, by line. */
export function parseSelection(text) {
  const conferenceIds = [];
  const emails = [];
  const problems = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, number) => {
    for (const raw of line.split(/[,;]/)) {
      const entry = raw.trim();
      if (!entry || entry.startsWith("#")) continue;
      if (entry.includes("@")) {
        emails.push(entry);
        continue;
      }
      const id = entry.replace(/#$/, "").replace(/[\s.-]/g, "");
      if (/^[0-9]{1,32}$/.test(id)) conferenceIds.push(id);
      else
        problems.push(
          `Line ${number + 1}: “${entry}” is neither a conference ID nor an email address.`,
        );
    }
  });
  return { conferenceIds, emails, problems };
}

// ---------------------------------------------------------------- switching views

let context = null; // {call, refusal} of the signed-in admin
let mounted = null;

/** Make the view ready for an admin (nav.js offers it in the top bar's switch). */
export function enableBulkView(call, refusal) {
  context = { call, refusal };
  onView("bulk", showBulk);
}

/** Withdraw it (signing out): stop following any job, forget what was shown. */
export function disableBulkView() {
  mounted?.stop();
  mounted = null;
  context = null;
  fill(byId("bulk"));
}

function showBulk() {
  if (!context) return;
  if (!mounted) mounted = mountBulk(context.call, context.refusal);
  mounted.show();
}

// ---------------------------------------------------------------- the view

function mountBulk(call, refusal) {
  const view = {
    call,
    refusal,
    selection: null,
    preview: null,
    job: null,
    lines: [],
    nextCursor: null,
    hasMore: false,
    timer: 0,
  };

  const section = byId("bulk");
  fill(
    section,
    h("h1", { id: "bulk-title", tabindex: "-1" }, "Bulk reset"),
    h(
      "p",
      null,
      "Respond to a leak: paste the conference IDs that leaked (from a forwarded invite, a " +
        "spreadsheet) or the people's email addresses. Preview who would be reset, then reset " +
        "them all as one incident: every reset is audited with the incident's id.",
    ),
    h(
      "form",
      { id: "bulk-form", class: "card", novalidate: true, onsubmit: (e) => runPreview(view, e) },
      h("label", { for: "bulk-input" }, "Leaked conference IDs or email addresses"),
      h(
        "p",
        { id: "bulk-input-help", class: "hint" },
        "One a line, or separated by commas. Spaces, dashes and a trailing # in an ID are " +
          `ignored (“482 1395#” is 4821395). At most ${SELECTORS_MAX.toLocaleString("en")}.`,
      ),
      h("textarea", {
        id: "bulk-input",
        rows: "8",
        spellcheck: "false",
        autocomplete: "off",
        "aria-describedby": "bulk-input-help bulk-input-check",
      }),
      h("div", { id: "bulk-input-check", "aria-live": "polite" }),
      h("button", { type: "submit", id: "bulk-preview-button", class: "primary" }, "Preview"),
    ),
    h("section", { id: "bulk-preview", "aria-live": "polite" }),
    h("section", { id: "bulk-job" }),
    h(
      "section",
      { class: "card", "aria-labelledby": "bulk-recent-title" },
      h("h2", { id: "bulk-recent-title" }, "Recent bulk resets"),
      h("div", { id: "bulk-recent" }),
    ),
  );
  wireDialog(view);
  loadRecent(view);
  return {
    show() {
      loadRecent(view);
      byId("bulk-title").focus();
    },
    stop() {
      window.clearTimeout(view.timer);
      view.timer = 0;
    },
  };
}

// ---------------------------------------------------------------- preview

async function runPreview(view, event) {
  event.preventDefault();
  const { conferenceIds, emails, problems } = parseSelection(byId("bulk-input").value);
  const check = byId("bulk-input-check");
  const input = byId("bulk-input");
  if (problems.length || conferenceIds.length + emails.length === 0) {
    input.setAttribute("aria-invalid", "true");
    const shown = problems.length
      ? problems
      : ["Paste at least one conference ID or email address."];
    fill(
      check,
      h(
        "ul",
        { class: "problems error", role: "alert" },
        shown.slice(0, 20).map((p) => h("li", null, p)),
      ),
    );
    return;
  }
  if (conferenceIds.length + emails.length > SELECTORS_MAX) {
    input.setAttribute("aria-invalid", "true");
    fill(
      check,
      h(
        "p",
        { class: "error", role: "alert" },
        `At most ${SELECTORS_MAX} entries: split the list.`,
      ),
    );
    return;
  }
  input.removeAttribute("aria-invalid");
  fill(check);
  const selection = {};
  if (conferenceIds.length) selection.conferenceIds = conferenceIds;
  if (emails.length) selection.emails = emails;
  const button = byId("bulk-preview-button");
  button.disabled = true;
  const box = byId("bulk-preview");
  fill(box, h("p", { class: "muted" }, "Looking up who holds these IDs…"));
  try {
    const data = await view.call(PREVIEW, { selection, first: PREVIEW_ROWS });
    view.selection = selection;
    view.preview = data.previewBulkReset;
    renderPreview(view);
  } catch (error) {
    fill(box, h("p", { class: "error", role: "alert" }, view.refusal(error)));
  } finally {
    button.disabled = false;
  }
}

function renderPreview(view) {
  const preview = view.preview;
  const box = byId("bulk-preview");
  const count = preview.count;
  fill(
    box,
    h(
      "div",
      { class: "card", "aria-labelledby": "bulk-preview-title" },
      h("h2", { id: "bulk-preview-title", tabindex: "-1" }, "Preview"),
      h(
        "p",
        { id: "bulk-preview-summary" },
        h("strong", null, `${count} ${count === 1 ? "user" : "users"} would be reset`),
        `; ${preview.skippedCount} skipped. Nothing has changed yet.`,
      ),
      count ? h("h3", null, "To reset") : null,
      count
        ? table(
            "bulk-preview-users",
            "Users to reset",
            ["Name", "Email", "Current conference ID"],
            preview.users.map((u) => [
              u.displayName,
              u.email,
              code(u.audioConferencing?.conferenceId),
            ]),
          )
        : null,
      preview.skipped.length ? h("h3", null, `Skipped (${preview.skippedCount})`) : null,
      preview.skipped.length
        ? table(
            "bulk-preview-skipped",
            "Skipped",
            ["Entry", "Why", "User"],
            preview.skipped.map((s) => [
              code(s.selector),
              SKIP_WORDS[s.reason] || s.message,
              s.user ? `${s.user.displayName} (${s.user.email})` : "—",
            ]),
            (s, i) => ({ dataset: { reason: preview.skipped[i].reason } }),
          )
        : null,
      count
        ? h(
            "form",
            { id: "bulk-start-form", novalidate: true, onsubmit: (e) => openDialog(view, e) },
            h(
              "label",
              { for: "bulk-reason" },
              "Reason (required, kept in every audit entry of the incident)",
            ),
            h("input", {
              id: "bulk-reason",
              maxlength: "500",
              autocomplete: "off",
              required: true,
              "aria-describedby": "bulk-reason-error",
              oninput: clearReasonError,
            }),
            h("p", { id: "bulk-reason-error", class: "error", hidden: true }),
            h(
              "button",
              { type: "submit", id: "bulk-start-button", class: "danger" },
              `Reset ${count} conference ${count === 1 ? "ID" : "IDs"}…`,
            ),
          )
        : h("p", { class: "note" }, "Nobody here would be reset, so there is nothing to start."),
    ),
  );
  byId("bulk-preview-title").focus();
}

// ---------------------------------------------------------------- confirm and start

function clearReasonError() {
  byId("bulk-reason-error").hidden = true;
  byId("bulk-reason").removeAttribute("aria-invalid");
}

function openDialog(view, event) {
  event.preventDefault();
  const reason = byId("bulk-reason").value.trim();
  const error = byId("bulk-reason-error");
  if (!reason) {
    fill(error, "Give a reason: it is kept in the audit trail with every reset.");
    error.hidden = false;
    byId("bulk-reason").setAttribute("aria-invalid", "true");
    byId("bulk-reason").focus();
    return;
  }
  error.hidden = true;
  byId("bulk-reason").removeAttribute("aria-invalid");
  const count = view.preview.count;
  fill(byId("bulk-confirm-count"), `${count} ${count === 1 ? "user" : "users"}`);
  const dialog = byId("bulk-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  byId("bulk-cancel-dialog").focus();
}

function wireDialog(view) {
  const dialog = byId("bulk-dialog");
  byId("bulk-cancel-dialog").onclick = () => dialog.close("cancel");
  byId("bulk-dialog-form").onsubmit = async (event) => {
    event.preventDefault();
    dialog.close("start");
    await startJob(view);
  };
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "start") document.getElementById("bulk-start-button")?.focus();
  });
}

async function startJob(view) {
  const reason = byId("bulk-reason").value.trim();
  const button = byId("bulk-start-button");
  button.disabled = true;
  try {
    const data = await view.call(START, {
      input: {
        selection: view.selection,
        reason,
        // What was confirmed: confid refuses (SELECTION_CHANGED) if the selection now
        // reaches another number of users.
        expectedCount: view.preview.count,
        idempotencyKey: `admin-page-${randomKey()}`,
      },
    });
    const payload = data.startBulkReset;
    if (payload.userErrors.length) {
      const changed = payload.userErrors.some((e) => e.code === "SELECTION_CHANGED");
      if (changed) fill(byId("bulk-preview")); // that preview is stale: preview again
      fill(
        byId("bulk-job"),
        h(
          "div",
          { class: "flash failure", role: "alert" },
          h("p", null, "confid refused the bulk reset:"),
          errorList(payload.userErrors),
          changed ? h("p", null, "Nothing was reset. Preview the selection again.") : null,
        ),
      );
      button.disabled = changed;
      return;
    }
    fill(byId("bulk-preview"));
    byId("bulk-input").value = "";
    openJob(view, payload.job.id);
  } catch (error) {
    fill(byId("bulk-job"), h("p", { class: "error", role: "alert" }, view.refusal(error)));
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- following a job

function openJob(view, jobId) {
  window.clearTimeout(view.timer);
  view.job = { id: jobId };
  view.lines = [];
  view.nextCursor = null;
  view.hasMore = false;
  refreshJob(view, { focus: true });
}

async function refreshJob(view, { focus = false } = {}) {
  const jobId = view.job.id;
  let data;
  try {
    data = await view.call(JOB, { id: jobId, first: RESULTS_PAGE });
  } catch (error) {
    fill(byId("bulk-job"), h("p", { class: "error", role: "alert" }, view.refusal(error)));
    return;
  }
  if (view.job?.id !== jobId) return; // another job was opened meanwhile
  const job = data.bulkResetJob;
  view.job = job;
  const results = job.results;
  view.lines = results.edges.map((e) => e.node);
  view.nextCursor = results.pageInfo.endCursor;
  view.hasMore = results.pageInfo.hasNextPage;
  view.totalLines = results.totalCount;
  renderJob(view);
  if (focus) byId("bulk-job-title")?.focus();
  if (!ENDED.has(job.status)) {
    view.timer = window.setTimeout(() => refreshJob(view), POLL_MS);
  } else {
    view.timer = 0;
    loadRecent(view);
  }
}

async function moreLines(view) {
  try {
    const data = await view.call(JOB, {
      id: view.job.id,
      first: RESULTS_PAGE,
      after: view.nextCursor,
    });
    const results = data.bulkResetJob.results;
    view.lines = [...view.lines, ...results.edges.map((e) => e.node)];
    view.nextCursor = results.pageInfo.endCursor;
    view.hasMore = results.pageInfo.hasNextPage;
  } catch (error) {
    view.linesError = view.refusal(error);
  }
  renderJob(view);
  document.getElementById("bulk-more")?.focus();
}

async function cancelJob(view) {
  const button = byId("bulk-cancel-job");
  button.disabled = true;
  try {
    const data = await view.call(CANCEL, { id: view.job.id });
    const payload = data.cancelBulkReset;
    if (payload.userErrors.length) {
      view.cancelError = payload.userErrors.map((e) => e.message).join(" ");
    }
  } catch (error) {
    view.cancelError = view.refusal(error);
  }
  window.clearTimeout(view.timer);
  await refreshJob(view);
}

function renderJob(view) {
  const job = view.job;
  const ended = ENDED.has(job.status);
  const running = !ended;
  const percent = job.total ? Math.round((100 * job.processed) / job.total) : 100;
  const statusClass = job.status === "SUCCEEDED" && !job.failed ? "good" : ended ? "bad" : "";
  fill(
    byId("bulk-job"),
    h(
      "div",
      { class: "card", "aria-labelledby": "bulk-job-title", dataset: { status: job.status } },
      h("h2", { id: "bulk-job-title", tabindex: "-1" }, "Bulk reset job"),
      h(
        "p",
        null,
        h(
          "span",
          { id: "bulk-job-status", class: `badge ${statusClass}` },
          STATUS_WORDS[job.status] || job.status,
        ),
        job.cancelRequested && running ? " · stopping before the next user" : null,
      ),
      h("progress", {
        id: "bulk-progress",
        max: String(job.total),
        value: String(job.processed),
        "aria-label": "Users done",
        "aria-valuetext": `${job.processed} of ${job.total} users`,
      }),
      h(
        "p",
        { id: "bulk-progress-text", "aria-live": "polite" },
        `${job.processed} of ${job.total} users (${percent}%): ${job.done} reset, ${job.failed} refused; ${job.skipped} skipped.`,
      ),
      job.error ? h("p", { class: "error" }, `Stopped: ${job.error}`) : null,
      view.cancelError ? h("p", { class: "error", role: "alert" }, view.cancelError) : null,
      running
        ? h(
            "button",
            { type: "button", id: "bulk-cancel-job", onclick: () => cancelJob(view) },
            "Cancel job",
          )
        : null,
      h(
        "dl",
        { class: "facts" },
        h("dt", null, "Incident"),
        h("dd", null, h("code", { id: "bulk-incident" }, job.incidentId)),
        h("dt", null, "Reason"),
        h("dd", null, job.reason),
        h("dt", null, "Started by"),
        h("dd", null, job.createdBy.name, " · ", time(job.createdAt)),
        h("dt", null, "Finished"),
        h("dd", null, job.finishedAt ? time(job.finishedAt) : "—"),
      ),
      ended ? h("p", { id: "bulk-ending-note", class: "note" }, endingNote(job)) : null,
      h("h3", null, `Results (${view.totalLines ?? 0})`),
      resultsTable(view),
      view.linesError ? h("p", { class: "error" }, view.linesError) : null,
      view.hasMore
        ? h(
            "button",
            { type: "button", id: "bulk-more", onclick: () => moreLines(view) },
            "Show more",
          )
        : null,
    ),
  );
}

/** What an ended job did, in words: who has a new ID (and an email), who was not run. */
function endingNote(job) {
  const notRun = job.total - job.processed;
  const sentences = [];
  if (job.done) {
    const users = job.done === 1 ? "1 user was reset" : `${job.done} users were reset`;
    let emails = "No emails were sent (emails were off for this job).";
    if (job.sendEmail) {
      const only =
        job.done === 1
          ? "Only the user reset was emailed the new ID."
          : `Only the ${job.done} users reset were emailed the new ID.`;
      emails = job.done < job.total ? only : "Each was emailed the new ID.";
    }
    sentences.push(
      `${users}: their old IDs no longer work, and meeting invites that carry them must be rescheduled.`,
      emails,
    );
  }
  if (job.failed) sentences.push(`${job.failed} refused: see their lines below.`);
  if (notRun) {
    const why = job.status === "CANCELLED" ? "cancelled" : "stopped";
    sentences.push(
      `${notRun} not run: the job was ${why} before it reached them, and nothing was changed for them.`,
    );
  }
  if (!sentences.length) sentences.push("Nobody was reset.");
  return sentences.join(" ");
}

function resultsTable(view) {
  return table(
    "bulk-results",
    "Results",
    ["#", "User", "Entry", "Outcome", "Details"],
    view.lines.map((line) => [
      String(line.index + 1),
      line.user
        ? [line.user.displayName, h("br"), h("span", { class: "muted" }, line.user.email)]
        : "—",
      line.selector ? code(line.selector) : "—",
      h(
        "span",
        { class: `badge ${badge(line.outcome)}` },
        OUTCOME_WORDS[line.outcome] || line.outcome,
      ),
      details(line),
    ]),
    (_, i) => ({ dataset: { outcome: view.lines[i].outcome, index: String(view.lines[i].index) } }),
  );
}

function badge(outcome) {
  if (outcome === "RESET") return "good";
  if (outcome === "FAILED") return "bad";
  return "";
}

function details(line) {
  if (line.outcome === "RESET")
    return [code(line.previousConferenceId), " → ", code(line.newConferenceId)];
  if (line.outcome === "SKIPPED") return SKIP_WORDS[line.skipReason] || line.skipReason;
  if (line.outcome === "FAILED") return `Refused: ${line.errorCodes.join(", ")}`;
  if (line.outcome === "NOT_RUN") return "The job ended before this user: nothing was changed";
  return "Not reached yet";
}

// ---------------------------------------------------------------- recent jobs

async function loadRecent(view) {
  const box = document.getElementById("bulk-recent");
  if (!box) return;
  let data;
  try {
    data = await view.call(JOBS, { first: 10 });
  } catch (error) {
    fill(box, h("p", { class: "error" }, view.refusal(error)));
    return;
  }
  const jobs = data.bulkResetJobs.edges.map((e) => e.node);
  if (!jobs.length) {
    fill(box, h("p", { class: "muted" }, "No bulk reset yet."));
    return;
  }
  fill(
    box,
    h(
      "ul",
      { class: "bulk-jobs" },
      jobs.map((job) =>
        h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              class: "bulk-job-item",
              dataset: { jobId: job.id },
              onclick: () => openJob(view, job.id),
            },
            h("span", { class: "badge" }, STATUS_WORDS[job.status] || job.status),
            ` ${job.processed}/${job.total} · ${job.reason} · `,
            time(job.createdAt),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- small pieces

/** A random key (crypto.getRandomValues works on plain http too, unlike randomUUID). */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function code(text) {
  return text ? h("code", null, text) : "—";
}

function table(id, caption, headers, rows, rowAttrs) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { id, class: "bulk-table" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          headers.map((text) => h("th", { scope: "col" }, text)),
        ),
      ),
      h(
        "tbody",
        null,
        rows.map((cells, i) =>
          h(
            "tr",
            rowAttrs ? rowAttrs(cells, i) : null,
            cells.map((cell) => h("td", null, cell)),
          ),
        ),
      ),
    ),
  );
}

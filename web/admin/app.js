// The admin page: sign in with a token, find a user, view and change their conference ID.
import { hideActivity, mayWatch, showActivity } from "./activity.js";
import * as api from "./api.js";
import { disableBulkView, enableBulkView } from "./bulk.js";
import { closeViews, offerViews, onView } from "./nav.js";
import { byId, debounce, fill, h } from "./dom.js";
import { permissionsFor, ROLE_NAMES } from "./explain.js";
import { endProviderSignIn, startSignIn } from "./signin.js";
import { forgetToken, keepToken, pastedToken } from "./token.js";
import { audioConferencingFacts, auditItem, emailItem, emailSentence, errorList } from "./views.js";

const PAGE_SIZE = 10;
const TRAIL_PAGE = 20;

const state = {
  token: null,
  fromProvider: false, // the token is a signed-in person's (renewed by signin.js)
  viewer: null,
  can: permissionsFor(null),
  search: "",
  cursors: [null], // the `after` of each page seen so far; the last one is the current page
  users: [],
  hasNextPage: false,
  selectedId: null,
  user: null,
  history: null, // {items, hasNextPage, endCursor} for roles that may read the trail
  emails: null,
  sessionEvents: new Map(), // userId -> audit entries from this session's own changes
  flash: null, // {where, kind, content}: the outcome of the last action, shown once
};

// ---------------------------------------------------------------- requests and sign-in

async function call(query, variables) {
  try {
    return await api.graphql(state.token, query, variables);
  } catch (error) {
    if (error instanceof api.ApiError && error.unauthenticated) {
      signOut(`Signed out: ${error.message}`);
    }
    throw error;
  }
}

function refusal(error) {
  if (!(error instanceof api.ApiError)) return `Something went wrong: ${error.message}`;
  const code = error.code ? ` (${error.code})` : "";
  return `confid refused: ${error.message}${code}`;
}

async function signIn(token, { quiet = false, fromProvider = false } = {}) {
  const error = byId("sign-in-error");
  error.hidden = true;
  try {
    const data = await api.graphql(token, api.VIEWER);
    state.token = token;
    state.fromProvider = fromProvider;
    state.viewer = data.viewer;
    state.can = permissionsFor(data.viewer.role);
    if (!fromProvider) keepToken(token);
  } catch (failure) {
    if (fromProvider) endProviderSignIn();
    else forgetToken();
    if (!quiet) {
      fill(error, refusal(failure));
      error.hidden = false;
      byId("token").focus();
    }
    showSignIn();
    return;
  }
  byId("token").value = "";
  showWorkspace();
  await loadUsers();
  byId("search").focus();
}

function signOut(message) {
  forgetToken();
  endProviderSignIn();
  closeViews();
  Object.assign(state, {
    token: null,
    fromProvider: false,
    viewer: null,
    can: permissionsFor(null),
    users: [],
    cursors: [null],
    selectedId: null,
    user: null,
    history: null,
    emails: null,
    flash: null,
  });
  state.sessionEvents.clear();
  fill(byId("detail"));
  showSignIn();
  const error = byId("sign-in-error");
  if (message) {
    fill(error, message);
    error.hidden = false;
  } else {
    error.hidden = true;
  }
  byId("token").focus();
}

function showSignIn() {
  closeViews();
  disableBulkView();
  byId("sign-in").hidden = false;
  byId("workspace").hidden = true;
  byId("session").hidden = true;
}

// ---------------------------------------------------------------- views: users, bulk, activity

onView(
  "users",
  () => byId("search").focus(),
  () => {},
);
onView(
  "activity",
  () => showActivity(call, state.token).then(() => byId("activity-title")?.focus()),
  hideActivity,
);

function showWorkspace() {
  byId("sign-in").hidden = true;
  byId("session").hidden = false;
  const role = ROLE_NAMES[state.viewer.role] || state.viewer.role;
  fill(
    byId("who"),
    "Signed in as ",
    h("strong", null, state.viewer.name),
    " ",
    h("span", { class: "badge role", id: "viewer-role" }, role),
  );
  fill(byId("detail"), h("p", { class: "placeholder" }, "Choose a user to see their conference ID."));
  if (state.can.bulk) enableBulkView(call, refusal);
  offerViews([
    ...(state.can.bulk ? ["bulk"] : []),
    ...(mayWatch(state.viewer.role) ? ["activity"] : []),
  ]);
}

// ---------------------------------------------------------------- users list

async function loadUsers() {
  const status = byId("users-status");
  fill(status, "Loading users…");
  try {
    const data = await call(api.USERS, {
      first: PAGE_SIZE,
      after: state.cursors[state.cursors.length - 1],
      search: state.search || null,
    });
    state.users = data.users.edges.map((edge) => edge.node);
    state.hasNextPage = data.users.pageInfo.hasNextPage;
    state.nextCursor = data.users.pageInfo.endCursor;
    fill(status, state.users.length ? "" : "No user matches this search.");
  } catch (error) {
    state.users = [];
    fill(status, h("span", { class: "error", role: "alert" }, refusal(error)));
  }
  renderUsers();
}

function renderUsers() {
  const list = byId("user-list");
  fill(
    list,
    state.users.map((user) => {
      const ac = user.audioConferencing;
      return h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: "user-item",
            "aria-current": user.id === state.selectedId ? "true" : null,
            dataset: { userId: user.id },
            onclick: () => selectUser(user.id),
          },
          h("span", { class: "user-name" }, user.displayName),
          h("span", { class: "user-email" }, user.email),
          h(
            "span",
            { class: `user-id ${ac ? "" : "muted"}` },
            ac ? `ID ${ac.conferenceId}` : "Not enabled",
          ),
        ),
      );
    }),
  );
  const page = state.cursors.length;
  byId("prev-page").disabled = page <= 1;
  byId("next-page").disabled = !state.hasNextPage;
  fill(byId("page-label"), `Page ${page}`);
}

// ---------------------------------------------------------------- one user

async function selectUser(id) {
  state.selectedId = id;
  state.flash = null;
  renderUsers();
  fill(byId("detail"), h("p", { class: "placeholder" }, "Loading…"));
  await loadUser();
  byId("detail-title")?.focus();
}

async function loadUser() {
  const id = state.selectedId;
  try {
    const data = await call(api.USER, { id });
    state.user = data.user;
  } catch (error) {
    fill(byId("detail"), h("p", { class: "error", role: "alert" }, refusal(error)));
    return;
  }
  state.history = null;
  state.emails = null;
  if (state.user && state.can.readTrail) await loadTrail();
  renderDetail();
}

async function loadTrail() {
  const userId = state.user.id;
  const [history, emails] = await Promise.allSettled([
    call(api.HISTORY, { userId, first: TRAIL_PAGE }),
    call(api.EMAILS, { userId, first: TRAIL_PAGE }),
  ]);
  state.history = page(history, "auditEvents");
  state.emails = page(emails, "notifications");
}

function page(result, field) {
  if (result.status === "rejected") return { error: refusal(result.reason), items: [] };
  const connection = result.value[field];
  return {
    items: connection.edges.map((edge) => edge.node),
    hasNextPage: connection.pageInfo.hasNextPage,
    endCursor: connection.pageInfo.endCursor,
  };
}

async function morePage(kind) {
  const query = kind === "history" ? api.HISTORY : api.EMAILS;
  const field = kind === "history" ? "auditEvents" : "notifications";
  const current = state[kind];
  try {
    const data = await call(query, {
      userId: state.user.id,
      first: TRAIL_PAGE,
      after: current.endCursor,
    });
    const next = page({ status: "fulfilled", value: data }, field);
    state[kind] = { ...next, items: [...current.items, ...next.items] };
  } catch (error) {
    state[kind] = { ...current, error: refusal(error) };
  }
  renderDetail();
  byId(`${kind}-more`)?.focus();
}

function flashFor(where) {
  const flash = state.flash;
  if (!flash || flash.where !== where) return null;
  return h(
    "div",
    {
      class: `flash ${flash.kind === "error" ? "failure" : "success"}`,
      id: `${where}-result`,
      role: flash.kind === "error" ? "alert" : "status",
      tabindex: "-1",
    },
    flash.content,
  );
}

function renderDetail() {
  const user = state.user;
  const detail = byId("detail");
  if (!user) {
    fill(detail, h("p", { class: "error", role: "alert" }, "This user no longer exists."));
    return;
  }
  const ac = user.audioConferencing;
  fill(
    detail,
    h(
      "div",
      { class: "detail-head" },
      h("h2", { id: "detail-title", tabindex: "-1" }, user.displayName),
      h("p", { class: "muted" }, user.email),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "ac-title" },
      h("h3", { id: "ac-title" }, "Audio Conferencing"),
      ac
        ? audioConferencingFacts(ac)
        : h("p", null, "This user is not enabled for audio conferencing yet."),
      !ac && state.can.change
        ? h(
            "button",
            { type: "button", id: "enable-button", class: "primary", onclick: enable },
            "Enable audio conferencing",
          )
        : null,
      flashFor("ac"),
    ),
    ac && state.can.change ? changeSection(ac) : null,
    ac && state.can.change ? sendSection() : null,
    state.can.change ? null : readOnlyNote(),
    historySection(),
    state.can.readTrail ? emailsSection() : null,
  );
}

function readOnlyNote() {
  const role = ROLE_NAMES[state.viewer.role] || state.viewer.role;
  return h(
    "p",
    { class: "note", id: "read-only-note" },
    `Your role (${role}) can read users, their history and the emails sent, but not change them.`,
  );
}

function changeSection(ac) {
  const length = ac.bridge.conferenceIdLength;
  return h(
    "section",
    { class: "card", "aria-labelledby": "change-title" },
    h("h3", { id: "change-title" }, "Change the conference ID"),
    h(
      "div",
      { class: "action" },
      h(
        "p",
        null,
        "Reset gives the user a new random ID. The current ID stops working at once, so " +
          "existing meeting invites must be rescheduled.",
      ),
      h(
        "button",
        { type: "button", id: "reset-button", class: "danger", onclick: openResetDialog },
        "Reset conference ID…",
      ),
    ),
    state.can.choose
      ? h(
          "form",
          { id: "set-form", class: "action", novalidate: true, onsubmit: setConferenceId },
          h("h4", null, "Set a conference ID"),
          h("label", { for: "new-id" }, "New conference ID"),
          h("p", { id: "new-id-help", class: "hint" }, `Exactly ${length} digits (0–9).`),
          h("input", {
            id: "new-id",
            name: "conferenceId",
            inputmode: "numeric",
            autocomplete: "off",
            spellcheck: "false",
            maxlength: "64",
            "aria-describedby": "new-id-help new-id-check",
            oninput: onNewIdInput,
          }),
          h("div", { id: "new-id-check", class: "check", "aria-live": "polite" }),
          h("label", { for: "set-reason" }, "Reason (optional, kept in the audit trail)"),
          h("input", { id: "set-reason", name: "reason", maxlength: "500", autocomplete: "off" }),
          h("button", { type: "submit", id: "set-button", class: "primary" }, "Set conference ID"),
        )
      : h(
          "p",
          { class: "note", id: "choose-note" },
          "Choosing a specific ID needs the admin role; a reset picks a new random one.",
        ),
    flashFor("change"),
  );
}

function sendSection() {
  return h(
    "section",
    { class: "card", "aria-labelledby": "send-title" },
    h("h3", { id: "send-title" }, "Send conference info in email"),
    h(
      "form",
      { id: "send-form", class: "action", novalidate: true, onsubmit: sendInfo },
      h(
        "p",
        null,
        "Emails the conference ID and the dial-in numbers (never a PIN) to the user's address.",
      ),
      h("label", { for: "send-to" }, "Send to another address instead (optional)"),
      h("input", {
        id: "send-to",
        name: "toAddress",
        type: "email",
        maxlength: "254",
        autocomplete: "off",
      }),
      h("button", { type: "submit", id: "send-button" }, "Send conference info"),
    ),
    flashFor("send"),
  );
}

function historySection() {
  const userId = state.user.id;
  if (!state.can.readTrail) {
    const mine = state.sessionEvents.get(userId) || [];
    return h(
      "section",
      { class: "card", "aria-labelledby": "history-title" },
      h("h3", { id: "history-title" }, "History"),
      h(
        "p",
        { class: "note" },
        "Your role cannot read the audit trail. Changes you make in this session are listed here.",
      ),
      mine.length
        ? h("ol", { class: "events", id: "history-list" }, mine.map(auditItem))
        : h("p", { class: "muted" }, "No changes in this session yet."),
    );
  }
  return trailSection("history", "History", state.history, auditItem, "No history yet.");
}

function emailsSection() {
  return trailSection("emails", "Emails sent", state.emails, emailItem, "No email recorded.");
}

function trailSection(kind, title, data, item, empty) {
  return h(
    "section",
    { class: "card", "aria-labelledby": `${kind}-title` },
    h("h3", { id: `${kind}-title` }, title),
    data?.error ? h("p", { class: "error", role: "alert" }, data.error) : null,
    data?.items.length
      ? h("ol", { class: "events", id: `${kind}-list` }, data.items.map(item))
      : h("p", { class: "muted" }, empty),
    data?.hasNextPage
      ? h(
          "button",
          { type: "button", id: `${kind}-more`, onclick: () => morePage(kind) },
          "Show older",
        )
      : null,
  );
}

// ---------------------------------------------------------------- set: live validation

let checkSerial = 0;

const runCheck = debounce(async (value) => {
  const serial = ++checkSerial;
  const box = document.getElementById("new-id-check");
  if (!box || !state.user) return;
  let result;
  try {
    const data = await call(api.CHECK, { userId: state.user.id, conferenceId: value });
    result = data.checkConferenceId;
  } catch (error) {
    if (serial === checkSerial) fill(box, h("p", { class: "error" }, refusal(error)));
    return;
  }
  if (serial !== checkSerial || !document.getElementById("new-id-check")) return;
  showCheck(box, value, result);
}, 250);

function showCheck(box, value, result) {
  const input = byId("new-id");
  const length = state.user.audioConferencing?.bridge.conferenceIdLength ?? 0;
  const onlyShort =
    /^[0-9]*$/.test(value) &&
    value.length < length &&
    result.errors.every((e) => e.code === "WRONG_LENGTH");
  if (result.valid) {
    input.setAttribute("aria-invalid", "false");
    fill(box, h("p", { class: "ok" }, `✓ ${value} can be used.`));
  } else if (onlyShort) {
    input.removeAttribute("aria-invalid");
    fill(box, h("p", { class: "hint" }, `${value.length} of ${length} digits.`));
  } else {
    input.setAttribute("aria-invalid", "true");
    fill(box, h("p", { class: "error" }, `${value} cannot be used:`), errorList(result.errors));
  }
}

function onNewIdInput(event) {
  const value = event.target.value;
  if (value === "") {
    checkSerial++;
    event.target.removeAttribute("aria-invalid");
    fill(byId("new-id-check"));
    return;
  }
  runCheck(value);
}

// ---------------------------------------------------------------- changes

function busy(button, on) {
  if (!button) return;
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}

/** Apply a change payload: new user, audit entry, refreshed list and trail, a message. */
async function applyChange(where, payload, describe) {
  if (payload.userErrors.length) {
    state.flash = {
      where,
      kind: "error",
      content: [h("p", null, "confid refused the change:"), errorList(payload.userErrors)],
    };
  } else {
    state.flash = { where, kind: "ok", content: describe(payload) };
  }
  if (payload.user) {
    state.user = payload.user;
    const listed = state.users.find((u) => u.id === payload.user.id);
    if (listed) listed.audioConferencing = payload.user.audioConferencing;
    renderUsers();
  }
  if (payload.auditEvent) {
    const mine = state.sessionEvents.get(state.user.id) || [];
    state.sessionEvents.set(state.user.id, [payload.auditEvent, ...mine]);
  }
  if (state.can.readTrail) await loadTrail();
  renderDetail();
  document.getElementById(`${where}-result`)?.focus();
}

function showError(where, error) {
  state.flash = { where, kind: "error", content: refusal(error) };
  renderDetail();
  document.getElementById(`${where}-result`)?.focus();
}

function changedSentence(payload, verb) {
  const event = payload.auditEvent;
  const before = event?.previousConferenceId;
  const after = payload.user?.audioConferencing?.conferenceId;
  return [
    h(
      "p",
      null,
      h("strong", null, `Conference ID ${verb}: `),
      before ? [h("code", null, before), " → "] : null,
      h("code", { id: "new-conference-id" }, after),
      ".",
    ),
    h(
      "p",
      null,
      `The old ID no longer works. Meeting invites that carry it must be rescheduled. ${emailSentence(payload.notification)}`,
    ),
  ];
}

async function setConferenceId(event) {
  event.preventDefault();
  const conferenceId = byId("new-id").value;
  const reason = byId("set-reason").value.trim();
  const button = byId("set-button");
  busy(button, true);
  try {
    const data = await call(api.SET, {
      input: { userId: state.user.id, conferenceId, reason: reason || null },
    });
    await applyChange("change", data.setConferenceId, (p) => changedSentence(p, "set"));
  } catch (error) {
    showError("change", error);
  } finally {
    busy(document.getElementById("set-button"), false);
  }
}

async function resetConferenceId(reason) {
  try {
    const data = await call(api.RESET, {
      input: { userId: state.user.id, reason: reason || null },
    });
    await applyChange("change", data.resetConferenceId, (p) => changedSentence(p, "reset"));
  } catch (error) {
    showError("change", error);
  }
}

async function enable() {
  busy(byId("enable-button"), true);
  try {
    const data = await call(api.ENABLE, { input: { userId: state.user.id } });
    await applyChange("ac", data.enableAudioConferencing, (p) => [
      h(
        "p",
        null,
        "Enabled with conference ID ",
        h("code", null, p.user?.audioConferencing?.conferenceId),
        `. ${emailSentence(p.notification)}`,
      ),
    ]);
  } catch (error) {
    showError("ac", error);
  }
}

async function sendInfo(event) {
  event.preventDefault();
  const toAddress = byId("send-to").value.trim();
  busy(byId("send-button"), true);
  try {
    const data = await call(api.SEND, {
      input: { userId: state.user.id, toAddress: toAddress || null },
    });
    await applyChange("send", data.sendConferenceInfo, (p) => [
      h("p", null, h("strong", null, "Conference info sent. "), emailSentence(p.notification)),
    ]);
  } catch (error) {
    showError("send", error);
  }
}

// ---------------------------------------------------------------- the reset dialog

function openResetDialog() {
  const ac = state.user.audioConferencing;
  fill(byId("reset-user"), state.user.displayName);
  fill(byId("reset-old"), ac.conferenceId);
  byId("reset-reason").value = "";
  const dialog = byId("reset-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  byId("reset-cancel").focus();
}

function wireResetDialog() {
  const dialog = byId("reset-dialog");
  byId("reset-cancel").addEventListener("click", () => dialog.close("cancel"));
  byId("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = byId("reset-reason").value.trim();
    dialog.close("reset");
    await resetConferenceId(reason);
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "reset") document.getElementById("reset-button")?.focus();
  });
}

// ---------------------------------------------------------------- start

function wire() {
  byId("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = byId("token").value.trim();
    if (token) signIn(token);
  });
  byId("sign-out").addEventListener("click", () => signOut(null));
  const search = debounce(() => {
    const value = byId("search").value.trim();
    if (value === state.search) return;
    state.search = value;
    state.cursors = [null];
    loadUsers();
  }, 300);
  byId("search").addEventListener("input", search);
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  byId("prev-page").addEventListener("click", () => {
    if (state.cursors.length > 1) state.cursors.pop();
    loadUsers();
  });
  byId("next-page").addEventListener("click", () => {
    if (!state.hasNextPage) return;
    state.cursors.push(state.nextCursor);
    loadUsers();
  });
  wireResetDialog();
}

wire();
startSignIn({
  renewed: (token) => {
    if (state.fromProvider) state.token = token;
  },
  ended: (message) => {
    if (state.fromProvider) signOut(message);
  },
}).then((token) => {
  if (token) return signIn(token, { fromProvider: true });
  const saved = pastedToken();
  if (saved) return signIn(saved, { quiet: true });
  showSignIn();
});

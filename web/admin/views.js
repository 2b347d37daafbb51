// Pieces of the user panel, built from API data (no state, no requests).
import { h, time } from "./dom.js";
import {
  ACTION_WORDS,
  errorAdvice,
  errorTitle,
  KIND_WORDS,
  ROLE_NAMES,
  STATUS_WORDS,
} from "./explain.js";

/** A list of UserErrors, each with its title, the server's words and advice. */
export function errorList(errors) {
  return h(
    "ul",
    { class: "problems" },
    errors.map((error) =>
      h(
        "li",
        { dataset: { code: error.code, rule: error.rule || "" } },
        h("strong", null, errorTitle(error)),
        error.rule ? [" ", h("code", { class: "rule" }, error.rule)] : null,
        ". ",
        // The rule is shown on its own; the server's words need not repeat it.
        error.rule ? error.message.replace(` (${error.rule})`, "") : error.message,
        errorAdvice(error) ? ` ${errorAdvice(error)}` : null,
      ),
    ),
  );
}

export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([term, value, attrs]) => [h("dt", null, term), h("dd", attrs || null, value)]),
  );
}

export function audioConferencingFacts(ac) {
  return facts([
    [
      "Conference ID",
      h("span", { class: "conference-id", id: "conference-id" }, ac.conferenceId),
    ],
    ["Bridge", `${ac.bridge.name} (${ac.bridge.conferenceIdLength}-digit IDs)`],
    ["Toll number", phone(ac.tollNumber)],
    ["Toll-free number", phone(ac.tollFreeNumber)],
    ["ID assigned", time(ac.assignedAt)],
  ]);
}

function phone(number) {
  return number ? h("a", { href: `tel:${number}` }, number) : "—";
}

function change(event) {
  const before = event.previousConferenceId;
  const after = event.newConferenceId;
  if (event.action === "SEND_INFO") {
    const to = (event.recipients || []).join(", ") || "the user";
    return `to ${to}${event.toNonPrimaryAddress ? " (not the primary address)" : ""}`;
  }
  if (before && after) return [code(before), " → ", code(after)];
  if (after) return ["→ ", code(after)];
  if (before) return [code(before), " (unchanged)"];
  return null;
}

function code(id) {
  return h("code", null, id);
}

/** One audit entry as a list item: what happened, the IDs, who, when, why. */
export function auditItem(event) {
  const rejected = event.outcome === "REJECTED";
  const role = event.actor ? ROLE_NAMES[event.actor.role] || event.actor.role : null;
  const actor = !event.actor
    ? "unknown"
    : event.actor.role === "SYSTEM"
      ? "confid (system)"
      : event.actor.displayName // a person signed in with the identity provider
        ? `${event.actor.displayName} (${event.actor.name}, ${role})`
        : `${event.actor.name} (${role})`;
  return h(
    "li",
    {
      class: `event ${rejected ? "rejected" : "success"}`,
      dataset: { sequence: event.sequence, action: event.action, outcome: event.outcome },
    },
    h(
      "p",
      { class: "event-head" },
      h("span", { class: "sequence" }, `#${event.sequence}`),
      " ",
      h("strong", null, ACTION_WORDS[event.action] || event.action),
      " ",
      h("span", { class: `badge ${rejected ? "bad" : "good"}` }, rejected ? "Refused" : "Done"),
    ),
    h("p", { class: "event-change" }, change(event)),
    rejected && event.errorCodes.length
      ? h("p", { class: "event-codes" }, `Refused for: ${event.errorCodes.join(", ")}`)
      : null,
    h("p", { class: "muted" }, "By ", actor, " · ", time(event.occurredAt)),
    event.reason ? h("p", { class: "event-reason" }, "Reason: ", event.reason) : null,
    event.incidentId
      ? h(
          "p",
          { class: "event-incident muted" },
          "Bulk reset, incident ",
          h("code", null, event.incidentId),
        )
      : null,
  );
}

/** One recorded email, with its body behind a disclosure. */
export function emailItem(note) {
  return h(
    "li",
    { class: "email", dataset: { kind: note.kind, status: note.status } },
    h("p", { class: "event-head" }, h("strong", null, note.subject)),
    h(
      "p",
      null,
      `${KIND_WORDS[note.kind] || note.kind} to ${note.to.join(", ")}`,
      note.toPrimaryAddress ? "" : " (not the primary address)",
      ` · ID ${note.conferenceId}`,
    ),
    h(
      "p",
      { class: "muted" },
      `Status: ${STATUS_WORDS[note.status] || note.status}`,
      note.error ? ` (${note.error})` : "",
      " · ",
      time(note.createdAt),
    ),
    h("details", null, h("summary", null, "Show the email"), h("pre", null, note.body)),
  );
}

/** What an email status means, for a sentence after a change. */
export function emailSentence(note) {
  if (!note) return "No email was recorded.";
  const to = note.to.join(", ");
  return `Email to ${to}: ${STATUS_WORDS[note.status] || note.status}.`;
}

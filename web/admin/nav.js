// The admin page's views — Users, Bulk reset (admins), Activity (admins, auditors) — and
// the switch between them in the top bar, shown when a role may open more than one.
import { byId } from "./dom.js";

const VIEWS = {
  users: { button: "view-users", section: "workspace" },
  bulk: { button: "view-bulk", section: "bulk" },
  activity: { button: "view-activity", section: "activity" },
};

const hooks = {}; // name -> {show, hide} of the views that do work when shown
let wired = false;

/** Let a view's module run code when it is shown and when it is left. */
export function onView(name, show, hide) {
  hooks[name] = { show, hide };
}

/** Offer the views a role may open (always Users); the switch appears for two or more. */
export function offerViews(names) {
  if (!wired) {
    for (const name of Object.keys(VIEWS)) {
      byId(VIEWS[name].button).addEventListener("click", () => showView(name));
    }
    wired = true;
  }
  const offered = new Set(["users", ...names]);
  for (const [name, view] of Object.entries(VIEWS)) {
    byId(view.button).hidden = !offered.has(name);
  }
  byId("views").hidden = offered.size < 2;
  showView("users");
}

/** Show one view, leaving the others (signing out: `closeViews`). */
export function showView(name) {
  for (const [other, view] of Object.entries(VIEWS)) {
    const current = other === name;
    byId(view.section).hidden = !current;
    byId(view.button).setAttribute("aria-current", current ? "page" : "false");
    if (!current) hooks[other]?.hide?.();
  }
  hooks[name]?.show?.();
}

/** Signing out: every view is left and hidden, and the switch with them. */
export function closeViews() {
  for (const [name, view] of Object.entries(VIEWS)) {
    hooks[name]?.hide?.();
    byId(view.section).hidden = true;
  }
  byId("views").hidden = true;
}

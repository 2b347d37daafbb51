// Words for codes: what each role may do, why an ID was refused, what an email status means.

/** What each role may do, mirroring the role table in docs/api.md (the server still decides). */
export const PERMISSIONS = {
  ADMIN: { change: true, choose: true, readTrail: true, bulk: true },
  HELPDESK: { change: true, choose: false, readTrail: false, bulk: false },
  AUDITOR: { change: false, choose: false, readTrail: true, bulk: false },
};

export function permissionsFor(role) {
  return PERMISSIONS[role] || { change: false, choose: false, readTrail: false, bulk: false };
}

export const ROLE_NAMES = {
  ADMIN: "Admin",
  HELPDESK: "Helpdesk",
  AUDITOR: "Auditor",
  SYSTEM: "System",
};

const WEAK_RULES = {
  SINGLE_DIGIT: "One digit repeated",
  RUN_OF_FIVE: "Five equal digits in a row",
  SEQUENCE: "Digits in sequence",
  REPEATED_GROUP: "A repeated group of digits",
};

const TITLES = {
  INVALID_CHARACTERS: "Only the digits 0–9",
  WRONG_LENGTH: "Wrong length",
  SAME_AS_CURRENT: "Same as the current ID",
  IN_USE: "Already in use",
  RETIRED: "Retired ID",
  TOO_LONG: "Too long",
  INVALID_EMAIL: "Not a usable email address",
  NOT_FOUND: "User not found",
  NOT_ENABLED: "Not enabled for audio conferencing",
  ALREADY_ENABLED: "Already enabled",
  CONFLICT: "Changed at the same moment elsewhere",
};

// What to do next, where the server's message does not already say it.
const ADVICE = {
  IN_USE: "Each ID belongs to one user on the bridge: choose another.",
  RETIRED:
    "Retired IDs are never handed out again, so a caller with an old invite cannot reach " +
    "someone else's meeting: choose another.",
  WEAK_PATTERN: "A guessable ID lets strangers walk into meetings.",
  CONFLICT: "Reload the user and try again.",
};

/** A short title for one UserError, naming the weak-pattern rule when there is one. */
export function errorTitle(error) {
  if (error.code === "WEAK_PATTERN") {
    return `Too easy to guess: ${(WEAK_RULES[error.rule] || "a weak pattern").toLowerCase()}`;
  }
  return TITLES[error.code] || error.code;
}

export function errorAdvice(error) {
  return ADVICE[error.code] || null;
}

export const STATUS_WORDS = {
  PENDING: "waiting to be handed to the mail transport",
  RECORDED: "recorded (no mail transport is configured, so the record is the delivery)",
  RETRYING: "not taken by the mail server yet; it will be tried again",
  SENT: "sent",
  FAILED: "failed",
  SUPPRESSED: "not sent (emails were turned off for this change)",
};

export const KIND_WORDS = {
  CONFERENCE_INFO: "Conference info",
  CONFERENCE_ID_CHANGED: "Conference ID changed",
};

export const ACTION_WORDS = {
  ASSIGN: "Assigned",
  SET: "Set by hand",
  RESET: "Reset",
  SEND_INFO: "Conference info sent",
  BULK_RESET_STARTED: "Bulk reset started",
  BULK_RESET_FINISHED: "Bulk reset ended",
};

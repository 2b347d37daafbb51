// The GraphQL client: POST /graphql with the bearer token, errors turned into ApiError.

export class ApiError extends Error {
  constructor(message, { code = null, status = 0, requestId = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }

  get unauthenticated() {
    return this.status === 401 || this.code === "UNAUTHENTICATED";
  }
}

export async function graphql(token, query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(`confid could not be reached (${error.message}).`, { code: "NETWORK" });
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`confid answered HTTP ${response.status} without a JSON body.`, {
      status: response.status,
    });
  }
  const errors = body && Array.isArray(body.errors) ? body.errors : [];
  if (errors.length) {
    const ext = errors[0].extensions || {};
    const message = errors.map((e) => e.message).join(" ");
    throw new ApiError(message, {
      code: ext.code || null,
      status: response.status,
      requestId: ext.requestId || response.headers.get("X-Request-Id"),
    });
  }
  if (!body || typeof body.data !== "object" || body.data === null) {
    throw new ApiError(`confid answered HTTP ${response.status} with no data.`, {
      status: response.status,
    });
  }
  return body.data;
}

const USER_FIELDS = `
fragment AdminUserFields on User {
  id displayName email
  audioConferencing {
    conferenceId assignedAt tollNumber tollFreeNumber
    bridge { id name conferenceIdLength }
  }
}`;

const EVENT_FIELDS = `
fragment AdminEventFields on AuditEvent {
  id sequence occurredAt action outcome errorCodes previousConferenceId newConferenceId
  actor { name role displayName } reason recipients toNonPrimaryAddress requestId incidentId
}`;

const NOTIFICATION_FIELDS = `
fragment AdminNotificationFields on Notification {
  id kind to subject body conferenceId status error createdAt toPrimaryAddress
}`;

const USER_ERRORS = "userErrors { field message code rule }";

export const VIEWER = "query AdminViewer { viewer { name role } }";

export const USERS = `
query AdminUsers($first: Int, $after: String, $search: String) {
  users(first: $first, after: $after, search: $search) {
    edges { node { id displayName email audioConferencing { conferenceId } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const USER = `
query AdminUser($id: ID!) { user(id: $id) { ...AdminUserFields } }
${USER_FIELDS}`;

export const CHECK = `
query AdminCheckConferenceId($userId: ID!, $conferenceId: String!) {
  checkConferenceId(userId: $userId, conferenceId: $conferenceId) {
    valid errors { field message code rule }
  }
}`;

export const HISTORY = `
query AdminHistory($userId: ID!, $first: Int, $after: String) {
  auditEvents(userId: $userId, first: $first, after: $after) {
    edges { node { ...AdminEventFields } }
    pageInfo { hasNextPage endCursor }
  }
}
${EVENT_FIELDS}`;

export const EMAILS = `
query AdminEmails($userId: ID!, $first: Int, $after: String) {
  notifications(userId: $userId, first: $first, after: $after) {
    edges { node { ...AdminNotificationFields } }
    pageInfo { hasNextPage endCursor }
  }
}
${NOTIFICATION_FIELDS}`;

function change(name, inputType) {
  return `
mutation Admin${name[0].toUpperCase()}${name.slice(1)}($input: ${inputType}!) {
  ${name}(input: $input) {
    user { ...AdminUserFields }
    auditEvent { ...AdminEventFields }
    notification { ...AdminNotificationFields }
    ${USER_ERRORS}
  }
}
${USER_FIELDS}
${EVENT_FIELDS}
${NOTIFICATION_FIELDS}`;
}

export const SET = change("setConferenceId", "SetConferenceIdInput");
export const RESET = change("resetConferenceId", "ResetConferenceIdInput");
export const ENABLE = change("enableAudioConferencing", "EnableAudioConferencingInput");

export const SEND = `
mutation AdminSendConferenceInfo($input: SendConferenceInfoInput!) {
  sendConferenceInfo(input: $input) {
    auditEvent { ...AdminEventFields }
    notification { ...AdminNotificationFields }
    ${USER_ERRORS}
  }
}
${EVENT_FIELDS}
${NOTIFICATION_FIELDS}`;

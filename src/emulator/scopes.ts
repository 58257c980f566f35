/**
 * The scopes Airtable knows, with the human wording the consent page shows. The emulator keeps its
 * own copy (it plays Airtable, so it must not depend on the client's catalogue it is testing).
 */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "data.records:read": "See the data in records",
  "data.records:write": "Create, edit, and delete records",
  "data.recordComments:read": "See comments in records",
  "data.recordComments:write": "Create, edit, and delete record comments",
  "schema.bases:read": "See the structure of a base, like table names or field types",
  "schema.bases:write": "Edit the structure of a base, like adding new fields or tables",
  "webhook:manage": "View, create, delete webhooks for a base, as well as fetch webhook payloads",
  "block:manage": "Create new releases and submissions for custom extensions via the Blocks CLI",
  "user.email:read": "See the user's email address",
  "workspacesAndBases:read": "See workspaces and bases, including their collaborators",
  "enterprise.groups:read": "See groups and their members",
  "workspacesAndBases:write": "Create and edit workspaces and bases",
  "workspacesAndBases.shares:manage": "Manage shares of workspaces and bases",
  "enterprise.scim.usersAndGroups:manage": "Manage users and groups through SCIM",
  "enterprise.auditLogs:read": "See the enterprise audit log",
  "enterprise.changeEvents:read": "See enterprise change events",
  "enterprise.exports:manage": "Manage enterprise exports",
  "enterprise.account:read": "See the enterprise account",
  "enterprise.account:write": "Edit the enterprise account",
  "enterprise.user:read": "See enterprise users",
  "enterprise.user:write": "Edit enterprise users",
  "enterprise.groups:manage": "Manage enterprise groups",
  "workspacesAndBases:manage": "Manage workspaces and bases across the enterprise",
  "hyperDB.records:read": "See HyperDB records",
  "hyperDB.records:write": "Edit HyperDB records",
};

/** Scopes any user can grant: the emulator's default integration enables all of them. */
export const BASIC_SCOPES: readonly string[] = [
  "data.records:read",
  "data.records:write",
  "data.recordComments:read",
  "data.recordComments:write",
  "schema.bases:read",
  "schema.bases:write",
  "webhook:manage",
  "block:manage",
  "user.email:read",
  "workspacesAndBases:read",
];

/**
 * True when `scope` is a scope Airtable defines (basic or enterprise).
 */
export function isKnownScope(scope: string): boolean {
  return Object.hasOwn(SCOPE_DESCRIPTIONS, scope);
}

/**
 * Splits a space-delimited scope string the way Airtable reads it: single spaces, no empties.
 * Returns `undefined` when the string is empty or has a duplicate, the two shapes Airtable refuses.
 */
export function parseScopeList(value: string): string[] | undefined {
  const scopes = value.split(" ").filter((s) => s.length > 0);
  if (scopes.length === 0 || new Set(scopes).size !== scopes.length) return undefined;
  return scopes;
}

/**
 * Airtable's OAuth scope catalogue, and parsing of user-supplied scope lists with did-you-mean
 * hints for the usual slips (`webhook.manage` for `webhook:manage`, wrong case).
 */
import { AirlockError } from "../shared/errors.js";
import { closestName } from "./did-you-mean.js";

/** Who can grant a scope: any user, an enterprise member, or an enterprise admin. */
export type ScopeTier = "basic" | "enterprise_member" | "enterprise_admin";

/** One entry of the catalogue. */
export interface ScopeInfo {
  name: string;
  tier: ScopeTier;
  description: string;
}

/**
 * Every scope Airtable documents, with its tier.
 *
 * @example
 * SCOPE_CATALOGUE.filter((s) => s.tier === "basic").map((s) => s.name);
 */
export const SCOPE_CATALOGUE: readonly ScopeInfo[] = [
  { name: "data.records:read", tier: "basic", description: "Read records" },
  { name: "data.records:write", tier: "basic", description: "Create, edit and delete records" },
  { name: "data.recordComments:read", tier: "basic", description: "Read record comments" },
  {
    name: "data.recordComments:write",
    tier: "basic",
    description: "Create, edit and delete record comments",
  },
  { name: "schema.bases:read", tier: "basic", description: "See bases, tables, fields and views" },
  { name: "schema.bases:write", tier: "basic", description: "Edit base structure" },
  { name: "webhook:manage", tier: "basic", description: "Create, list and delete webhooks" },
  { name: "block:manage", tier: "basic", description: "Manage extensions (blocks)" },
  { name: "user.email:read", tier: "basic", description: "See the user's email address" },
  // Tier varies by plan; Airtable lists it with the basic scopes.
  { name: "workspacesAndBases:read", tier: "basic", description: "See workspaces and bases" },
  { name: "enterprise.groups:read", tier: "enterprise_member", description: "See user groups" },
  {
    name: "workspacesAndBases:write",
    tier: "enterprise_member",
    description: "Create and edit workspaces and bases",
  },
  {
    name: "workspacesAndBases.shares:manage",
    tier: "enterprise_member",
    description: "Manage shares of workspaces and bases",
  },
  {
    name: "enterprise.scim.usersAndGroups:manage",
    tier: "enterprise_admin",
    description: "Manage users and groups through SCIM",
  },
  { name: "enterprise.auditLogs:read", tier: "enterprise_admin", description: "Read audit logs" },
  { name: "enterprise.changeEvents:read", tier: "enterprise_admin", description: "Read change events" },
  { name: "enterprise.exports:manage", tier: "enterprise_admin", description: "Manage eDiscovery exports" },
  { name: "enterprise.account:read", tier: "enterprise_admin", description: "Read the enterprise account" },
  { name: "enterprise.account:write", tier: "enterprise_admin", description: "Edit the enterprise account" },
  { name: "enterprise.user:read", tier: "enterprise_admin", description: "Read enterprise users" },
  { name: "enterprise.user:write", tier: "enterprise_admin", description: "Edit enterprise users" },
  { name: "enterprise.groups:manage", tier: "enterprise_admin", description: "Manage user groups" },
  {
    name: "workspacesAndBases:manage",
    tier: "enterprise_admin",
    description: "Manage all workspaces and bases",
  },
  { name: "hyperDB.records:read", tier: "enterprise_admin", description: "Read HyperDB records" },
  { name: "hyperDB.records:write", tier: "enterprise_admin", description: "Write HyperDB records" },
];

/** Every scope name Airtable documents. */
export const SCOPE_NAMES: readonly string[] = SCOPE_CATALOGUE.map((s) => s.name);

const BY_NAME = new Map(SCOPE_CATALOGUE.map((s) => [s.name, s]));

/**
 * A sensible default for scripts: read records and schema, plus the user's email for `whoami`.
 *
 * @example
 * readAirtableConfig(process.env, { scopes: [...DEFAULT_SCOPES] });
 */
export const DEFAULT_SCOPES: readonly string[] = [
  "data.records:read",
  "schema.bases:read",
  "user.email:read",
];

/**
 * The catalogue entry for a scope, or undefined if Airtable does not document it.
 *
 * @example
 * scopeInfo("webhook:manage")?.tier; // "basic"
 */
export function scopeInfo(name: string): ScopeInfo | undefined {
  return BY_NAME.get(name);
}

/** Case-folded, with `.` and `:` made equivalent: the two slips people make most. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[.:]/g, "|");
}

/**
 * The documented scope an unknown name was most likely meant to be, if any is close.
 *
 * @example
 * suggestScope("webhook.manage"); // "webhook:manage"
 * suggestScope("data.records.read"); // "data.records:read"
 * suggestScope("something"); // undefined
 */
export function suggestScope(name: string): string | undefined {
  // Allow about one slip per six characters: close enough to be a typo, far enough to avoid nonsense.
  return closestName(name, SCOPE_NAMES, {
    normalize: fold,
    maxDistance: (folded) => Math.max(2, Math.floor(folded.length / 6)),
  });
}

/**
 * Parses a scope list (space/comma separated string, or an array) into unique, documented
 * scope names in the order given. Throws `invalid_scope` naming every unknown scope with a
 * did-you-mean, or when the list is empty.
 *
 * @example
 * parseScopes("data.records:read schema.bases:read"); // ["data.records:read", "schema.bases:read"]
 * parseScopes("webhook.manage"); // throws AirlockError invalid_scope, hint "Did you mean webhook:manage?"
 */
export function parseScopes(input: string | readonly string[]): string[] {
  const raw = typeof input === "string" ? input.split(/[\s,]+/) : input.flatMap((s) => s.split(/[\s,]+/));
  const names = [...new Set(raw.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (names.length === 0) {
    throw new AirlockError("invalid_scope", "At least one scope is required.", {
      hint: `Set AIRTABLE_SCOPES (space-separated), e.g. "${DEFAULT_SCOPES.join(" ")}".`,
    });
  }
  const unknown = names.filter((n) => !BY_NAME.has(n));
  if (unknown.length > 0) {
    const suggestions = unknown.map((n) => ({ name: n, suggestion: suggestScope(n) }));
    const hints = suggestions.map(({ name, suggestion }) =>
      suggestion ? `Did you mean ${suggestion} instead of ${name}?` : `${name} is not an Airtable scope.`,
    );
    throw new AirlockError(
      "invalid_scope",
      `Unknown Airtable scope${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}.`,
      {
        hint: `${hints.join(" ")} Valid scopes: ${SCOPE_NAMES.join(", ")}.`,
        details: {
          unknown,
          suggestions: Object.fromEntries(suggestions.map((s) => [s.name, s.suggestion ?? null])),
        },
      },
    );
  }
  return names;
}

/**
 * The scope string for the `scope` parameter: unique names joined by single spaces.
 *
 * @example
 * formatScopes(["data.records:read", "data.records:read"]); // "data.records:read"
 */
export function formatScopes(scopes: readonly string[]): string {
  return [...new Set(scopes)].join(" ");
}

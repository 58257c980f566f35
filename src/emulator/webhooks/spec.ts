/**
 * The create-webhook body and its specification: the shape Airtable documents, then the checks
 * against the base (every table, view and field id must exist) and the scopes its dataTypes need.
 */
import { z } from "zod";
import type { SampleBase } from "../sample-data.js";

export const DATA_TYPES = ["tableData", "tableFields", "tableMetadata"] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const CHANGE_TYPES = ["add", "remove", "update"] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The `actionMetadata.source` values a specification may filter on. */
export const SOURCES = [
  "client",
  "publicApi",
  "formSubmission",
  "formPageSubmission",
  "automation",
  "system",
  "sync",
  "anonymousUser",
  "unknown",
] as const;
export type Source = (typeof SOURCES)[number];

const fieldIds = z.array(z.string().regex(/^fld[A-Za-z0-9]{14}$/, "must be a field id")).min(1);

const filtersSchema = z.strictObject({
  dataTypes: z.array(z.enum(DATA_TYPES)).min(1),
  recordChangeScope: z
    .string()
    .regex(/^(tbl|viw)[A-Za-z0-9]{14}$/, "must be a table or view id")
    .optional(),
  changeTypes: z.array(z.enum(CHANGE_TYPES)).min(1).optional(),
  fromSources: z.array(z.enum(SOURCES)).min(1).optional(),
  sourceOptions: z.record(z.string(), z.unknown()).optional(),
  watchDataInFieldIds: fieldIds.optional(),
  watchSchemasOfFieldIds: fieldIds.optional(),
});

const includesSchema = z.strictObject({
  includeCellValuesInFieldIds: z.union([z.literal("all"), fieldIds]).optional(),
  includePreviousCellValues: z.boolean().optional(),
  includePreviousFieldDefinitions: z.boolean().optional(),
});

const specificationSchema = z.strictObject({
  options: z.strictObject({ filters: filtersSchema, includes: includesSchema.optional() }),
});

export const createWebhookBodySchema = z.strictObject({
  notificationUrl: z
    .url({ protocol: /^https?$/, error: "must be an http or https URL" })
    .nullable()
    .optional(),
  specification: specificationSchema,
});

export type WebhookSpecification = z.infer<typeof specificationSchema>;
export type WebhookFilters = WebhookSpecification["options"]["filters"];
export type WebhookIncludes = NonNullable<WebhookSpecification["options"]["includes"]>;
export type CreateWebhookBody = z.infer<typeof createWebhookBodySchema>;

/**
 * Whether a `recordChangeScope` names a table of the base. View scopes are refused: which records a
 * filtered view holds needs its formula, which the emulator does not evaluate for webhooks.
 */
export function scopeProblem(base: SampleBase, scope: string | undefined): string | undefined {
  if (scope === undefined || base.tables.some((t) => t.id === scope)) return undefined;
  if (scope.startsWith("viw"))
    return `recordChangeScope ${scope}: the emulator supports table ids only, not view ids.`;
  return `recordChangeScope ${scope} is not a table of this base.`;
}

/** The first id the specification names that the base lacks, as a message; undefined when all exist. */
export function specificationProblem(base: SampleBase, spec: WebhookSpecification): string | undefined {
  const { filters, includes } = spec.options;
  const scope = scopeProblem(base, filters.recordChangeScope);
  if (scope) return scope;
  const known = new Set(base.tables.flatMap((t) => t.fields.map((f) => f.id)));
  const named = [
    ...(filters.watchDataInFieldIds ?? []),
    ...(filters.watchSchemasOfFieldIds ?? []),
    ...(Array.isArray(includes?.includeCellValuesInFieldIds) ? includes.includeCellValuesInFieldIds : []),
  ];
  const missing = named.find((id) => !known.has(id));
  return missing === undefined ? undefined : `Field ${missing} is not a field of this base.`;
}

/**
 * The scopes a webhook's dataTypes need on top of webhook:manage (create and list payloads):
 * data.records:read for tableData, schema.bases:read for tableFields and tableMetadata.
 */
export function dataTypeScopes(spec: WebhookSpecification): string[] {
  const types = spec.options.filters.dataTypes;
  const scopes: string[] = [];
  if (types.includes("tableData")) scopes.push("data.records:read");
  if (types.includes("tableFields") || types.includes("tableMetadata")) scopes.push("schema.bases:read");
  return scopes;
}

/** Zod's issues as one line naming each bad path. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

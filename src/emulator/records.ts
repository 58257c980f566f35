/**
 * The records endpoints: list (GET), with Airtable's options and page offsets.
 */
import type { Context, Hono } from "hono";
import { type ApiEnv, baseFor, decodeOffset, encodeOffset, fail, positiveInt } from "./api-context.js";
import { invalidRequest, NOT_FOUND } from "./api-errors.js";
import { findTable, type SampleTable } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

/** Airtable's cap on `pageSize` for list records. */
export const MAX_PAGE_SIZE = 100;

/** The list-records options, checked against the table. */
interface ListOptions {
  pageSize: number | undefined;
  maxRecords: number | undefined;
  /** `fields[]`: names or ids, undefined for every field. */
  fieldNames: string[] | undefined;
}

/** Reads pageSize, maxRecords, view and fields[]; a 422 names the first one that is wrong. */
function parseListOptions(c: Context<ApiEnv>, table: SampleTable): ListOptions | Response {
  const pageSize = positiveInt(c.req.query("pageSize"));
  if (pageSize === "invalid" || (pageSize !== undefined && pageSize > MAX_PAGE_SIZE)) {
    return fail(c, invalidRequest(`The pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}.`), 422);
  }
  const maxRecords = positiveInt(c.req.query("maxRecords"));
  if (maxRecords === "invalid")
    return fail(c, invalidRequest("The maxRecords must be a positive integer."), 422);
  const view = c.req.query("view");
  if (view !== undefined && !table.views.some((v) => v.id === view || v.name === view)) {
    return fail(c, invalidRequest(`Unknown view ${JSON.stringify(view)}.`), 422);
  }
  const fieldNames = c.req.queries("fields[]");
  if (fieldNames) {
    const unknown = fieldNames.filter((name) => !table.fields.some((f) => f.name === name || f.id === name));
    if (unknown.length > 0)
      return fail(c, invalidRequest(`Unknown field name(s): ${unknown.join(", ")}.`), 422);
  }
  return { pageSize, maxRecords, fieldNames };
}

/** One page of records from `start`, with only the wanted fields, and the offset of the next page. */
function recordsPage(table: SampleTable, options: ListOptions, start: number) {
  const records = table.records;
  const limit = Math.min(options.maxRecords ?? records.length, records.length);
  const end = Math.min(start + (options.pageSize ?? MAX_PAGE_SIZE), limit);
  const wanted = options.fieldNames
    ? new Set(options.fieldNames.map((n) => table.fields.find((f) => f.id === n)?.name ?? n))
    : undefined;
  const page = records.slice(start, Math.max(start, end)).map((r) => ({
    id: r.id,
    createdTime: r.createdTime,
    fields: wanted
      ? Object.fromEntries(Object.entries(r.fields).filter(([name]) => wanted.has(name)))
      : r.fields,
  }));
  const nextRecord = end < limit ? records[end] : undefined;
  return {
    records: page,
    ...(nextRecord ? { offset: encodeOffset(table.id, end, nextRecord.id) } : {}),
  };
}

const RECORDS_PATH = "/v0/:baseId/:tableIdOrName";

/** `GET /v0/:baseId/:tableIdOrName`: list records, by table id or name. */
function listRecords(c: Context<ApiEnv, typeof RECORDS_PATH>, state: EmulatorState): Response {
  const base = baseFor(c, state, "data.records:read");
  if (base instanceof Response) return base;
  const table = findTable(base, c.req.param("tableIdOrName"));
  if (!table) return fail(c, NOT_FOUND, 404);
  const options = parseListOptions(c, table);
  if (options instanceof Response) return options;
  const offset = c.req.query("offset");
  const start = offset === undefined ? 0 : decodeOffset(offset, table.id, (i) => table.records[i]?.id);
  if (start === undefined) return fail(c, invalidRequest("The offset is invalid or expired."), 422);
  return c.json(recordsPage(table, options, start));
}

/** Registers the records routes on the /v0 app (after the more specific /v0 routes). */
export function recordRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  routes.get(RECORDS_PATH, (c) => listRecords(c, state));
}

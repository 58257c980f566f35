/**
 * List records: the options (from the query string of GET, or the JSON body of POST
 * listRecords), checked against the table, then the view's filter and order, filterByFormula,
 * sort[], fields[], cellFormat, maxRecords and the page with its offset.
 */
import type { Context } from "hono";
import type { ApiEnv } from "../api-context.js";
import { decodeOffset, encodeOffset } from "../api-context.js";
import { compileFormula, FormulaError } from "../formula/index.js";
import type { SampleBase, SampleData, SampleField, SampleRecord, SampleTable } from "../sample-data.js";
import { isLocale, isTimeZone, stringFormatter } from "./cell-format.js";
import { findField, type RecordView, recordJson } from "./cells.js";
import {
  failed,
  INVALID_OFFSET_VALUE,
  ITERATOR_NOT_AVAILABLE,
  invalidFilterByFormula,
  invalidPageSize,
  invalidRequest,
  type Outcome,
  PARAMETER_VALIDATION_FAILED,
  unknownFieldName,
  viewNotFound,
} from "./errors.js";
import { type SortKey, sortRecords } from "./sort.js";

/** Airtable's cap on `pageSize`, and its default. */
export const MAX_PAGE_SIZE = 100;

/** The list options, whichever way they came. */
export interface ListRequest {
  pageSize?: number | undefined;
  maxRecords?: number | undefined;
  offset?: string | undefined;
  view?: string | undefined;
  sort?: { field: string; direction?: string | undefined }[] | undefined;
  filterByFormula?: string | undefined;
  cellFormat?: string | undefined;
  timeZone?: string | undefined;
  userLocale?: string | undefined;
  fields?: string[] | undefined;
  returnFieldsByFieldId?: boolean | undefined;
}

/** A query-string number: digits (with a sign) or NaN, so the shared checks refuse it. */
function queryNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
}

/** `true`/`false` (airtable.js sends these), or undefined when absent; anything else is refused. */
export function queryFlag(value: string | undefined): Outcome<boolean | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (value === "true" || value === "1") return { ok: true, value: true };
  if (value === "false" || value === "0") return { ok: true, value: false };
  return failed(PARAMETER_VALIDATION_FAILED);
}

/** `sort[0][field]=…&sort[0][direction]=…`, in index order. */
function querySort(c: Context<ApiEnv>): Outcome<ListRequest["sort"]> {
  const entries = new Map<number, { field?: string; direction?: string }>();
  for (const [key, values] of Object.entries(c.req.queries())) {
    if (!key.startsWith("sort")) continue;
    const match = /^sort\[(\d+)\]\[(field|direction)\]$/.exec(key);
    if (!match || values.length !== 1) return failed(PARAMETER_VALIDATION_FAILED);
    const entry = entries.get(Number(match[1])) ?? {};
    entry[match[2] === "field" ? "field" : "direction"] = values[0];
    entries.set(Number(match[1]), entry);
  }
  if (entries.size === 0) return { ok: true, value: undefined };
  const sort: { field: string; direction?: string | undefined }[] = [];
  for (const index of [...entries.keys()].sort((a, b) => a - b)) {
    const { field, direction } = entries.get(index) ?? {};
    if (field === undefined) return failed(PARAMETER_VALIDATION_FAILED);
    sort.push({ field, direction });
  }
  return { ok: true, value: sort };
}

/** The list options of a GET (and the query-string part of a POST: timeZone, userLocale). */
export function listRequestFromQuery(c: Context<ApiEnv>): Outcome<ListRequest> {
  const sort = querySort(c);
  if (!sort.ok) return sort;
  const byFieldId = queryFlag(c.req.query("returnFieldsByFieldId"));
  if (!byFieldId.ok) return byFieldId;
  return {
    ok: true,
    value: {
      pageSize: queryNumber(c.req.query("pageSize")),
      maxRecords: queryNumber(c.req.query("maxRecords")),
      offset: c.req.query("offset"),
      view: c.req.query("view"),
      sort: sort.value,
      filterByFormula: c.req.query("filterByFormula"),
      cellFormat: c.req.query("cellFormat"),
      timeZone: c.req.query("timeZone"),
      userLocale: c.req.query("userLocale"),
      fields: c.req.queries("fields[]"),
      returnFieldsByFieldId: byFieldId.value,
    },
  };
}

/** Which fields, keyed how, formatted how: the part of the options every read shares. */
export function recordViewFor(
  base: SampleBase,
  table: SampleTable,
  request: ListRequest,
): Outcome<RecordView> {
  let only: Set<SampleField> | undefined;
  if (request.fields) {
    only = new Set();
    for (const name of request.fields) {
      const field = findField(table, name);
      if (!field) return failed(unknownFieldName(name));
      only.add(field);
    }
  }
  const format = request.cellFormat ?? "json";
  if (format !== "json" && format !== "string") return failed(PARAMETER_VALIDATION_FAILED);
  const byFieldId = request.returnFieldsByFieldId ?? false;
  if (format === "json") return { ok: true, value: { byFieldId, only } };
  const { timeZone, userLocale } = request;
  if (timeZone === undefined || userLocale === undefined)
    return failed(invalidRequest("cellFormat string needs both timeZone and userLocale."));
  if (!isTimeZone(timeZone)) return failed(invalidRequest(`Unknown timeZone ${JSON.stringify(timeZone)}.`));
  if (!isLocale(userLocale))
    return failed(invalidRequest(`Unknown userLocale ${JSON.stringify(userLocale)}.`));
  return { ok: true, value: { byFieldId, only, format: stringFormatter(base, timeZone, userLocale) } };
}

function sortKeys(table: SampleTable, sort: NonNullable<ListRequest["sort"]>): Outcome<SortKey[]> {
  const keys: SortKey[] = [];
  for (const { field: name, direction = "asc" } of sort) {
    const field = findField(table, name);
    if (!field) return failed(unknownFieldName(name));
    if (direction !== "asc" && direction !== "desc") return failed(PARAMETER_VALIDATION_FAILED);
    keys.push({ field, direction });
  }
  return { ok: true, value: keys };
}

/**
 * The records that pass every formula (a bad formula is INVALID_FILTER_BY_FORMULA). Formulas
 * compute in UTC: the request's timeZone only formats cells for cellFormat=string.
 */
function filterRecords(
  data: SampleData,
  table: SampleTable,
  formulas: string[],
  now: number,
): Outcome<SampleRecord[]> {
  try {
    const compiled = formulas.map((source) => compileFormula(source, table.fields));
    if (compiled.length === 0) return { ok: true, value: table.records };
    const context = { now: new Date(now) };
    const asSeen = linkedValues(data, table);
    return {
      ok: true,
      value: table.records.filter((r) => {
        const seen = asSeen(r);
        return compiled.every((f) => f.matches(seen, context));
      }),
    };
  } catch (error) {
    if (error instanceof FormulaError) return failed(invalidFilterByFormula(error.message));
    throw error;
  }
}

/**
 * A formula sees a link field as the linked records' primary field values (as Airtable shows a link
 * cell), not as record ids; the record as stored is left alone.
 */
function linkedValues(data: SampleData, table: SampleTable): (record: SampleRecord) => SampleRecord {
  const base = data.bases.find((b) => b.tables.includes(table));
  const lookups = table.fields
    .filter((f) => f.type === "multipleRecordLinks")
    .map((field) => {
      const linked = base?.tables.find((t) => t.id === field.options?.linkedTableId);
      const primary = linked?.fields.find((f) => f.id === linked.primaryFieldId);
      const names = new Map(linked?.records.map((r) => [r.id, primary ? r.fields[primary.name] : r.id]));
      return { name: field.name, names };
    });
  if (lookups.length === 0) return (record) => record;
  return (record) => {
    const fields = { ...record.fields };
    for (const { name, names } of lookups) {
      const cell = fields[name];
      if (Array.isArray(cell)) fields[name] = cell.map((id) => names.get(String(id)) ?? id);
    }
    return { ...record, fields };
  };
}

/** The records the list covers, in order: the view's filter and sort, then the request's. */
export function selectRecords(
  data: SampleData,
  table: SampleTable,
  request: ListRequest,
  now: number,
): Outcome<SampleRecord[]> {
  const view =
    request.view === undefined
      ? undefined
      : table.views.find((v) => v.id === request.view || v.name === request.view);
  if (request.view !== undefined && !view) return failed(viewNotFound(request.view));
  const viewQuery = view ? data.viewQueries?.get(view.id) : undefined;
  const formulas = [viewQuery?.filterByFormula, request.filterByFormula].filter(
    (f): f is string => f !== undefined && f !== "",
  );
  const filtered = filterRecords(data, table, formulas, now);
  if (!filtered.ok) return filtered;
  // The request's sort replaces the view's.
  const keys = sortKeys(table, request.sort ?? viewQuery?.sort ?? []);
  if (!keys.ok) return keys;
  return { ok: true, value: sortRecords(filtered.value, keys.value) };
}

/** The paging options checked: pageSize 1–100, maxRecords a positive integer. */
function pagingLimits(request: ListRequest): Outcome<{ pageSize: number; maxRecords: number | undefined }> {
  const { pageSize = MAX_PAGE_SIZE, maxRecords } = request;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
    return failed(invalidPageSize());
  if (maxRecords !== undefined && (!Number.isInteger(maxRecords) || maxRecords < 1))
    return failed(PARAMETER_VALIDATION_FAILED);
  return { ok: true, value: { pageSize, maxRecords } };
}

/** Where the offset points in `records`: garbage is INVALID_OFFSET_VALUE, a stale one the iterator error. */
function offsetStart(
  table: SampleTable,
  records: SampleRecord[],
  offset: string | undefined,
): Outcome<number> {
  if (offset === undefined) return { ok: true, value: 0 };
  const start = decodeOffset(offset, table.id, (i) => records[i]?.id);
  if (start !== undefined) return { ok: true, value: start };
  return failed(
    /^itr[A-Za-z0-9_-]+\/rec[A-Za-z0-9]{14}$/.test(offset) ? ITERATOR_NOT_AVAILABLE : INVALID_OFFSET_VALUE,
  );
}

/** One page of the list answer: `{records, offset?}`. */
export function listPage(
  base: SampleBase,
  table: SampleTable,
  records: SampleRecord[],
  request: ListRequest,
): Outcome<{ records: ReturnType<typeof recordJson>[]; offset?: string }> {
  const limits = pagingLimits(request);
  if (!limits.ok) return limits;
  const view = recordViewFor(base, table, request);
  if (!view.ok) return view;
  const start = offsetStart(table, records, request.offset);
  if (!start.ok) return start;
  const limit = Math.min(limits.value.maxRecords ?? records.length, records.length);
  const end = Math.min(start.value + limits.value.pageSize, limit);
  const page = records
    .slice(start.value, Math.max(start.value, end))
    .map((r) => recordJson(table, r, view.value));
  const next = end < limit ? records[end] : undefined;
  return {
    ok: true,
    value: { records: page, ...(next ? { offset: encodeOffset(table.id, end, next.id) } : {}) },
  };
}

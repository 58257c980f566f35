/**
 * The records endpoints of the Web API, over the modules under records/:
 *
 * - `GET /v0/{baseId}/{table}` and `POST /v0/{baseId}/{table}/listRecords` list records
 *   (data.records:read): filterByFormula, sort[], view, fields[], maxRecords, pageSize, offset,
 *   cellFormat with timeZone/userLocale, returnFieldsByFieldId.
 * - `GET /v0/{baseId}/{table}/{recordId}` gets one record (data.records:read).
 * - `POST /v0/{baseId}/{table}` creates up to 10 records (or one, `{fields}`); `PATCH` merges and
 *   `PUT` replaces up to 10 by id, or with `performUpsert` matched on `fieldsToMergeOn`;
 *   `DELETE ?records[]=…` deletes up to 10; `PATCH`/`PUT`/`DELETE /{recordId}` act on one
 *   (data.records:write, and edit permission on the base).
 *
 * `{table}` is a table id or name; airtable.js adds a trailing slash to the table path, which
 * Airtable accepts, so both spellings route.
 */
import type { Context, Hono } from "hono";
import { type ApiEnv, baseFor, fail } from "./api-context.js";
import { INVALID_PERMISSIONS, NOT_FOUND } from "./api-errors.js";
import { recordJson } from "./records/cells.js";
import {
  INVALID_DELETE_IDS,
  missingFields,
  type Outcome,
  PARAMETER_VALIDATION_FAILED,
  RECORD_NOT_FOUND,
  tooManyRecords,
} from "./records/errors.js";
import {
  type ListRequest,
  listPage,
  listRequestFromQuery,
  queryFlag,
  recordViewFor,
  selectRecords,
} from "./records/queries.js";
import {
  createBody,
  createEntry,
  listBody,
  readBody,
  recordFields,
  updateEntry,
  updateManyBody,
  updateOneBody,
} from "./records/request-body.js";
import {
  createRecords,
  deleteRecords,
  updateRecords,
  upsertRecords,
  type WriteTarget,
} from "./records/writes.js";
import { findTable, type SampleBase, type SampleTable } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

export { MAX_PAGE_SIZE } from "./records/queries.js";

/** At most this many records per create, update or delete request. */
const MAX_RECORDS_PER_WRITE = 10;

const TABLE_PATHS = ["/v0/:baseId/:tableIdOrName", "/v0/:baseId/:tableIdOrName/"];
const RECORD_PATH = "/v0/:baseId/:tableIdOrName/:recordId";

type Found = { base: SampleBase; table: SampleTable };

/** The base (scope, grant, rate limit) and table of the request, or the error answer. */
function tableFor(c: Context<ApiEnv>, state: EmulatorState, scope: string): Found | Response {
  const base = baseFor(c, state, scope);
  if (base instanceof Response) return base;
  const table = findTable(base, c.req.param("tableIdOrName") ?? "");
  if (!table) return fail(c, NOT_FOUND, 404);
  // Writing needs edit permission on the base; a read-only collaborator is refused like Airtable.
  if (scope === "data.records:write" && base.permissionLevel !== "edit" && base.permissionLevel !== "create")
    return fail(c, INVALID_PERMISSIONS, 403);
  return { base, table };
}

function answer<T>(c: Context<ApiEnv>, outcome: Outcome<T>, shape: (value: T) => unknown): Response {
  return outcome.ok ? c.json(shape(outcome.value)) : fail(c, outcome.error, 422);
}

function writeTarget(
  c: Context<ApiEnv>,
  state: EmulatorState,
  found: Found,
  typecast: boolean | undefined,
): WriteTarget {
  return {
    ...found,
    typecast: typecast ?? false,
    now: state.clock.now(),
    // One user per emulator; the integration is the one the caller's token was issued to.
    source: { userId: state.data.user.id, clientId: c.get("access").grant.clientId },
    emit: (change, source) => state.changes.emit(change, source),
  };
}

/** Lists records, with options from the query (GET) or the body (POST listRecords). */
function listRecords(c: Context<ApiEnv>, state: EmulatorState, found: Found, request: ListRequest): Response {
  const records = selectRecords(state.data, found.table, request, state.clock.now());
  if (!records.ok) return fail(c, records.error, 422);
  return answer(c, listPage(found.base, found.table, records.value, request), (page) => page);
}

function listByQuery(c: Context<ApiEnv>, state: EmulatorState): Response {
  const found = tableFor(c, state, "data.records:read");
  if (found instanceof Response) return found;
  const request = listRequestFromQuery(c);
  return request.ok ? listRecords(c, state, found, request.value) : fail(c, request.error, 422);
}

/** airtable.js sends timeZone and userLocale in the query even when the rest is in the body. */
async function listByBody(c: Context<ApiEnv>, state: EmulatorState): Promise<Response> {
  const found = tableFor(c, state, "data.records:read");
  if (found instanceof Response) return found;
  const parsed = await readBody(c, listBody);
  if (!parsed.ok) return parsed.response;
  const { method: _method, recordMetadata: _metadata, ...options } = parsed.body;
  const request: ListRequest = {
    timeZone: c.req.query("timeZone"),
    userLocale: c.req.query("userLocale"),
    ...options,
  };
  return listRecords(c, state, found, request);
}

function getRecord(c: Context<ApiEnv>, state: EmulatorState): Response {
  const found = tableFor(c, state, "data.records:read");
  if (found instanceof Response) return found;
  const record = found.table.records.find((r) => r.id === c.req.param("recordId"));
  if (!record) return fail(c, RECORD_NOT_FOUND, 404);
  const byFieldId = queryFlag(c.req.query("returnFieldsByFieldId"));
  if (!byFieldId.ok) return fail(c, byFieldId.error, 422);
  const view = recordViewFor(found.base, found.table, {
    cellFormat: c.req.query("cellFormat"),
    timeZone: c.req.query("timeZone"),
    userLocale: c.req.query("userLocale"),
    returnFieldsByFieldId: byFieldId.value,
  });
  return answer(c, view, (v) => recordJson(found.table, record, v));
}

/** Each entry of `records` checked; one without `fields` is INVALID_REQUEST_MISSING_FIELDS. */
function entries<T extends { fields?: Record<string, unknown> | undefined }>(
  items: unknown[],
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
): Outcome<(T & { fields: Record<string, unknown> })[]> {
  const checked: (T & { fields: Record<string, unknown> })[] = [];
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (!parsed.success) return { ok: false, error: PARAMETER_VALIDATION_FAILED };
    const { fields } = parsed.data;
    if (fields === undefined) return { ok: false, error: missingFields() };
    checked.push({ ...parsed.data, fields });
  }
  return { ok: true, value: checked };
}

async function create(c: Context<ApiEnv>, state: EmulatorState): Promise<Response> {
  const found = tableFor(c, state, "data.records:write");
  if (found instanceof Response) return found;
  const parsed = await readBody(c, createBody);
  if (!parsed.ok) return parsed.response;
  const { records, fields, typecast, returnFieldsByFieldId } = parsed.body;
  const target = writeTarget(c, state, found, typecast);
  const view = { byFieldId: returnFieldsByFieldId ?? false };
  if (records === undefined) {
    // The single-record form: `{fields}` in, one record out.
    const cells = recordFields.safeParse(fields);
    if (fields === undefined) return fail(c, missingFields(), 422);
    if (!cells.success) return fail(c, PARAMETER_VALIDATION_FAILED, 422);
    return answer(c, createRecords(target, [cells.data]), ([r]) => recordJson(found.table, r!, view));
  }
  if (records.length === 0 || records.length > MAX_RECORDS_PER_WRITE)
    return fail(c, tooManyRecords("created", records.length), 422);
  if (fields !== undefined) return fail(c, PARAMETER_VALIDATION_FAILED, 422);
  const checked = entries(records, createEntry);
  if (!checked.ok) return fail(c, checked.error, 422);
  const created = createRecords(
    target,
    checked.value.map((e) => e.fields),
  );
  return answer(c, created, (rs) => ({ records: rs.map((r) => recordJson(found.table, r, view)) }));
}

/** PATCH (merge) or PUT (replace) of up to 10 records, by id or with performUpsert. */
async function updateMany(c: Context<ApiEnv>, state: EmulatorState, replace: boolean): Promise<Response> {
  const found = tableFor(c, state, "data.records:write");
  if (found instanceof Response) return found;
  const parsed = await readBody(c, updateManyBody);
  if (!parsed.ok) return parsed.response;
  const { records, performUpsert, typecast, returnFieldsByFieldId } = parsed.body;
  if (records.length === 0 || records.length > MAX_RECORDS_PER_WRITE)
    return fail(c, tooManyRecords("updated", records.length), 422);
  const checked = entries(records, updateEntry);
  if (!checked.ok) return fail(c, checked.error, 422);
  const target = writeTarget(c, state, found, typecast);
  const json = (r: Parameters<typeof recordJson>[1]) =>
    recordJson(found.table, r, { byFieldId: returnFieldsByFieldId ?? false });
  if (performUpsert) {
    const upserted = upsertRecords(target, checked.value, performUpsert.fieldsToMergeOn, replace);
    return answer(c, upserted, (u) => ({
      records: u.records.map(json),
      createdRecords: u.created,
      updatedRecords: u.updated,
    }));
  }
  const byId: { id: string; fields: Record<string, unknown> }[] = [];
  for (const { id, fields } of checked.value) {
    if (id === undefined) return fail(c, PARAMETER_VALIDATION_FAILED, 422);
    byId.push({ id, fields });
  }
  return answer(c, updateRecords(target, byId, replace), (rs) => ({ records: rs.map(json) }));
}

async function updateOne(c: Context<ApiEnv>, state: EmulatorState, replace: boolean): Promise<Response> {
  const found = tableFor(c, state, "data.records:write");
  if (found instanceof Response) return found;
  const parsed = await readBody(c, updateOneBody);
  if (!parsed.ok) return parsed.response;
  const { fields, typecast, returnFieldsByFieldId } = parsed.body;
  if (fields === undefined) return fail(c, missingFields(), 422);
  const cells = recordFields.safeParse(fields);
  if (!cells.success) return fail(c, PARAMETER_VALIDATION_FAILED, 422);
  const id = c.req.param("recordId") ?? "";
  const updated = updateRecords(
    writeTarget(c, state, found, typecast),
    [{ id, fields: cells.data }],
    replace,
  );
  const view = { byFieldId: returnFieldsByFieldId ?? false };
  return answer(c, updated, ([r]) => recordJson(found.table, r!, view));
}

function deleteMany(c: Context<ApiEnv>, state: EmulatorState): Response {
  const found = tableFor(c, state, "data.records:write");
  if (found instanceof Response) return found;
  const ids = c.req.queries("records[]") ?? [];
  if (ids.length === 0 || ids.length > MAX_RECORDS_PER_WRITE || c.req.query("records") !== undefined)
    return fail(c, INVALID_DELETE_IDS, 422);
  return answer(c, deleteRecords(writeTarget(c, state, found, false), ids), (gone) => ({
    records: gone.map((id) => ({ id, deleted: true })),
  }));
}

function deleteOne(c: Context<ApiEnv>, state: EmulatorState): Response {
  const found = tableFor(c, state, "data.records:write");
  if (found instanceof Response) return found;
  const id = c.req.param("recordId") ?? "";
  if (!found.table.records.some((r) => r.id === id)) return fail(c, RECORD_NOT_FOUND, 404);
  return answer(c, deleteRecords(writeTarget(c, state, found, false), [id]), () => ({ id, deleted: true }));
}

/** Registers the records routes on the /v0 app (after the more specific /v0 routes). */
export function recordRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  routes.on("GET", TABLE_PATHS, (c) => listByQuery(c, state));
  routes.post("/v0/:baseId/:tableIdOrName/listRecords", (c) => listByBody(c, state));
  routes.get(RECORD_PATH, (c) => getRecord(c, state));
  routes.on("POST", TABLE_PATHS, (c) => create(c, state));
  routes.on("PATCH", TABLE_PATHS, (c) => updateMany(c, state, false));
  routes.on("PUT", TABLE_PATHS, (c) => updateMany(c, state, true));
  routes.on("DELETE", TABLE_PATHS, (c) => deleteMany(c, state));
  routes.patch(RECORD_PATH, (c) => updateOne(c, state, false));
  routes.put(RECORD_PATH, (c) => updateOne(c, state, true));
  routes.delete(RECORD_PATH, (c) => deleteOne(c, state));
}

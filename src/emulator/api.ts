import { setTimeout as sleep } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono, type Next } from "hono";
import {
  type ApiErrorBody,
  AUTHENTICATION_REQUIRED,
  apiErrorFor,
  INVALID_PERMISSIONS,
  invalidRequest,
  NOT_FOUND,
  RATE_LIMIT_REACHED,
} from "./api-errors.js";
import type { AccessTokenRecord } from "./grants.js";
import { jsonResponse } from "./json-response.js";
import { findTable, type SampleBase, type SampleTable } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

type ApiEnv = {
  Bindings: Partial<HttpBindings>;
  /** The caller's token, and its scopes minus any the integration has since disabled. */
  Variables: { access: AccessTokenRecord; scopes: string[] };
};

/** Airtable's cap on `pageSize` for list records. */
export const MAX_PAGE_SIZE = 100;

const BASE_ID = /^app[A-Za-z0-9]{14}$/;

function fail(c: Context, body: ApiErrorBody, status: 401 | 403 | 404 | 422 | 429): Response {
  return c.json(body, status);
}

/** Opaque, stateless page cursors: `itr…/<first id of the next page>`, checked against the list. */
function encodeOffset(scope: string, index: number, anchorId: string): string {
  return `itr${Buffer.from(`${scope}:${index}`).toString("base64url")}/${anchorId}`;
}

function decodeOffset(
  offset: string,
  scope: string,
  ids: (index: number) => string | undefined,
): number | undefined {
  const match = /^itr([A-Za-z0-9_-]+)\/([A-Za-z0-9]+)$/.exec(offset);
  if (!match) return undefined;
  const [prefix, index] = Buffer.from(match[1]!, "base64url").toString("utf8").split(":");
  const position = Number(index);
  if (prefix !== scope || !Number.isInteger(position) || ids(position) !== match[2]) return undefined;
  return position;
}

function positiveInt(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined) return undefined;
  return /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : "invalid";
}

/** Whether the token's grant reaches this base (all of them, or it was chosen at consent). */
function reachable(access: AccessTokenRecord, baseId: string): boolean {
  return access.grant.bases === "all" || access.grant.bases.has(baseId);
}

/**
 * In front of every /v0 request: counting, latency, an armed fault (its status may be any 400–599,
 * so it is answered by jsonResponse), then the bearer token and the scopes it has left.
 */
async function authenticateApiRequest(
  c: Context<ApiEnv>,
  next: Next,
  state: EmulatorState,
): Promise<Response | undefined> {
  state.stats.api_requests++;
  if (state.config.apiLatencyMs > 0) await sleep(state.config.apiLatencyMs);
  const fault = state.faults.takeApi();
  if (fault?.delay_ms) await sleep(fault.delay_ms);
  if (fault?.status !== undefined) {
    const headers: Record<string, string> =
      fault.retry_after === undefined ? {} : { "Retry-After": String(fault.retry_after) };
    return jsonResponse(apiErrorFor(fault.status), fault.status, headers);
  }
  const token = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const access = token === undefined ? undefined : state.grants.findAccessToken(token);
  if (!access) return fail(c, AUTHENTICATION_REQUIRED, 401);
  c.set("access", access);
  c.set("scopes", state.grants.effectiveScopes(access));
  await next();
  return undefined;
}

/** Shared checks of the per-base endpoints (id shape, rate limit, scope, grant); the base or the error. */
function baseFor(c: Context<ApiEnv>, state: EmulatorState, scope: string): SampleBase | Response {
  const baseId = c.req.param("baseId") ?? "";
  if (!BASE_ID.test(baseId)) return fail(c, NOT_FOUND, 404);
  if (!state.limiter.allow(baseId)) {
    state.stats.rate_limited++;
    return fail(c, RATE_LIMIT_REACHED, 429);
  }
  const base = state.data.baseById.get(baseId);
  if (!c.get("scopes").includes(scope) || !base || !reachable(c.get("access"), baseId))
    return fail(c, INVALID_PERMISSIONS, 403);
  return base;
}

/** `GET /v0/meta/whoami`: the user, the token's scopes, the email only with user.email:read. */
function whoami(c: Context<ApiEnv>, state: EmulatorState): Response {
  const scopes = c.get("scopes");
  return c.json({
    id: state.data.user.id,
    scopes,
    ...(scopes.includes("user.email:read") ? { email: state.data.user.email } : {}),
  });
}

/** `GET /v0/meta/bases`: the bases the grant reaches, a page at a time. */
function listBases(c: Context<ApiEnv>, state: EmulatorState): Response {
  if (!c.get("scopes").includes("schema.bases:read")) return fail(c, INVALID_PERMISSIONS, 403);
  const access = c.get("access");
  const bases = state.data.bases.filter((b) => reachable(access, b.id));
  const offset = c.req.query("offset");
  const start = offset === undefined ? 0 : decodeOffset(offset, "bases", (i) => bases[i]?.id);
  if (start === undefined) return fail(c, invalidRequest("The offset is invalid or expired."), 422);
  const page = bases.slice(start, start + state.config.basesPageSize);
  const next = start + page.length;
  const nextBase = bases[next];
  return c.json({
    bases: page.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })),
    ...(nextBase ? { offset: encodeOffset("bases", next, nextBase.id) } : {}),
  });
}

/** `GET /v0/meta/bases/:baseId/tables`: the schema (tables without their records). */
function baseSchema(c: Context<ApiEnv>, state: EmulatorState): Response {
  const base = baseFor(c, state, "schema.bases:read");
  if (base instanceof Response) return base;
  return c.json({
    tables: base.tables.map(({ records: _records, ...table }) => table),
  });
}

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

/**
 * The Web API subset an OAuth app calls: whoami, list bases, base schema, list records, with
 * Airtable's scopes, base grants, pagination, error shapes and 5 req/s per base rate limit.
 */
export function apiRoutes(state: EmulatorState): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  routes.use("/v0/*", (c, next) => authenticateApiRequest(c, next, state));
  routes.get("/v0/meta/whoami", (c) => whoami(c, state));
  routes.get("/v0/meta/bases", (c) => listBases(c, state));
  routes.get("/v0/meta/bases/:baseId/tables", (c) => baseSchema(c, state));
  routes.get(RECORDS_PATH, (c) => listRecords(c, state));
  routes.all("/v0/*", (c) => fail(c, NOT_FOUND, 404));
  return routes;
}

import { setTimeout as sleep } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
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
import { findTable, type SampleBase } from "./sample-data.js";
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

/**
 * The Web API subset an OAuth app calls: whoami, list bases, base schema, list records, with
 * Airtable's scopes, base grants, pagination, error shapes and 5 req/s per base rate limit.
 *
 * @example
 * app.route("/", apiRoutes(state));
 */
export function apiRoutes(state: EmulatorState): Hono<ApiEnv> {
  const { config, grants, data, stats, limiter } = state;
  const routes = new Hono<ApiEnv>();

  const reachable = (access: AccessTokenRecord, baseId: string) =>
    access.grant.bases === "all" || access.grant.bases.has(baseId);

  routes.use("/v0/*", async (c, next) => {
    stats.api_requests++;
    if (config.apiLatencyMs > 0) await sleep(config.apiLatencyMs);
    const fault = state.faults.takeApi();
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    if (fault?.status !== undefined) {
      const headers: Record<string, string> =
        fault.retry_after === undefined ? {} : { "Retry-After": String(fault.retry_after) };
      return c.json(apiErrorFor(fault.status), fault.status as 503, headers);
    }
    const match = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "");
    const access = match ? grants.findAccessToken(match[1]!) : undefined;
    if (!access) return fail(c, AUTHENTICATION_REQUIRED, 401);
    c.set("access", access);
    c.set("scopes", grants.effectiveScopes(access));
    await next();
  });

  /** Shared checks of the per-base endpoints; returns the base or the error response. */
  function baseFor(c: Context<ApiEnv>, scope: string): SampleBase | Response {
    const baseId = c.req.param("baseId") ?? "";
    if (!BASE_ID.test(baseId)) return fail(c, NOT_FOUND, 404);
    if (!limiter.allow(baseId)) {
      stats.rate_limited++;
      return fail(c, RATE_LIMIT_REACHED, 429);
    }
    const access = c.get("access");
    const base = data.baseById.get(baseId);
    if (!c.get("scopes").includes(scope) || !base || !reachable(access, baseId))
      return fail(c, INVALID_PERMISSIONS, 403);
    return base;
  }

  routes.get("/v0/meta/whoami", (c) => {
    const scopes = c.get("scopes");
    return c.json({
      id: data.user.id,
      scopes,
      ...(scopes.includes("user.email:read") ? { email: data.user.email } : {}),
    });
  });

  routes.get("/v0/meta/bases", (c) => {
    const access = c.get("access");
    if (!c.get("scopes").includes("schema.bases:read")) return fail(c, INVALID_PERMISSIONS, 403);
    const bases = data.bases.filter((b) => reachable(access, b.id));
    const offset = c.req.query("offset");
    const start = offset === undefined ? 0 : decodeOffset(offset, "bases", (i) => bases[i]?.id);
    if (start === undefined) return fail(c, invalidRequest("The offset is invalid or expired."), 422);
    const page = bases.slice(start, start + config.basesPageSize);
    const next = start + page.length;
    return c.json({
      bases: page.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })),
      ...(next < bases.length ? { offset: encodeOffset("bases", next, bases[next]!.id) } : {}),
    });
  });

  routes.get("/v0/meta/bases/:baseId/tables", (c) => {
    const base = baseFor(c, "schema.bases:read");
    if (base instanceof Response) return base;
    return c.json({
      tables: base.tables.map(({ records: _records, ...table }) => table),
    });
  });

  routes.get("/v0/:baseId/:tableIdOrName", (c) => {
    const base = baseFor(c, "data.records:read");
    if (base instanceof Response) return base;
    const table = findTable(base, c.req.param("tableIdOrName"));
    if (!table) return fail(c, NOT_FOUND, 404);

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
      const unknown = fieldNames.filter(
        (name) => !table.fields.some((f) => f.name === name || f.id === name),
      );
      if (unknown.length > 0)
        return fail(c, invalidRequest(`Unknown field name(s): ${unknown.join(", ")}.`), 422);
    }

    const records = table.records;
    const offset = c.req.query("offset");
    const start = offset === undefined ? 0 : decodeOffset(offset, table.id, (i) => records[i]?.id);
    if (start === undefined) return fail(c, invalidRequest("The offset is invalid or expired."), 422);
    const limit = Math.min(maxRecords ?? records.length, records.length);
    const end = Math.min(start + (pageSize ?? MAX_PAGE_SIZE), limit);
    const wanted = fieldNames
      ? new Set(fieldNames.map((n) => table.fields.find((f) => f.id === n)?.name ?? n))
      : undefined;
    const page = records.slice(start, Math.max(start, end)).map((r) => ({
      id: r.id,
      createdTime: r.createdTime,
      fields: wanted
        ? Object.fromEntries(Object.entries(r.fields).filter(([name]) => wanted.has(name)))
        : r.fields,
    }));
    return c.json({
      records: page,
      ...(end < limit ? { offset: encodeOffset(table.id, end, records[end]!.id) } : {}),
    });
  });

  routes.all("/v0/*", (c) => fail(c, NOT_FOUND, 404));
  return routes;
}

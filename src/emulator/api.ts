/**
 * The Web API: whoami, bases and schema here; records, schema writes, comments and webhooks in
 * their own modules, registered in the order Airtable's paths need (specific before general).
 */

import { type Context, Hono } from "hono";
import {
  type ApiEnv,
  authenticateApiRequest,
  baseFor,
  decodeOffset,
  encodeOffset,
  fail,
  reachable,
} from "./api-context.js";
import { INVALID_PERMISSIONS, invalidRequest, NOT_FOUND } from "./api-errors.js";
import { commentRoutes } from "./comments.js";
import { recordRoutes } from "./records.js";
import { schemaWriteRoutes } from "./schema-writes.js";
import type { EmulatorState } from "./state.js";
import { webhookRoutes } from "./webhooks.js";

export { MAX_PAGE_SIZE } from "./records.js";

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

/**
 * The Web API an OAuth app calls, with Airtable's scopes, base grants, pagination, error shapes
 * and 5 req/s per base rate limit.
 */
export function apiRoutes(state: EmulatorState): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  routes.use("/v0/*", (c, next) => authenticateApiRequest(c, next, state));
  routes.get("/v0/meta/whoami", (c) => whoami(c, state));
  routes.get("/v0/meta/bases", (c) => listBases(c, state));
  routes.get("/v0/meta/bases/:baseId/tables", (c) => baseSchema(c, state));
  schemaWriteRoutes(routes, state);
  webhookRoutes(routes, state);
  commentRoutes(routes, state);
  recordRoutes(routes, state);
  routes.all("/v0/*", (c) => fail(c, NOT_FOUND, 404));
  return routes;
}

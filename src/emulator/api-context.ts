/**
 * What every /v0 route shares: the request's variables (token, scopes), the error answer, the
 * per-base gate (id shape, rate limit, scope, grant) and Airtable's opaque page offsets.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import type { Context, Next } from "hono";
import {
  type ApiErrorBody,
  AUTHENTICATION_REQUIRED,
  apiErrorFor,
  INVALID_PERMISSIONS,
  NOT_FOUND,
  RATE_LIMIT_REACHED,
} from "./api-errors.js";
import type { AccessTokenRecord } from "./grants.js";
import { jsonResponse } from "./json-response.js";
import type { SampleBase } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

export type ApiEnv = {
  Bindings: Partial<HttpBindings>;
  /** The caller's token, and its scopes minus any the integration has since disabled. */
  Variables: { access: AccessTokenRecord; scopes: string[] };
};

const BASE_ID = /^app[A-Za-z0-9]{14}$/;

export function fail(c: Context, body: ApiErrorBody, status: 401 | 403 | 404 | 422 | 429): Response {
  return c.json(body, status);
}

/** Opaque, stateless page cursors: `itr…/<first id of the next page>`, checked against the list. */
export function encodeOffset(scope: string, index: number, anchorId: string): string {
  return `itr${Buffer.from(`${scope}:${index}`).toString("base64url")}/${anchorId}`;
}

export function decodeOffset(
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

export function positiveInt(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined) return undefined;
  return /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : "invalid";
}

/** Whether the token's grant reaches this base (all of them, or it was chosen at consent). */
export function reachable(access: AccessTokenRecord, baseId: string): boolean {
  return access.grant.bases === "all" || access.grant.bases.has(baseId);
}

/**
 * In front of every /v0 request: counting, latency, an armed fault (its status may be any 400–599,
 * so it is answered by jsonResponse), then the bearer token and the scopes it has left.
 */
export async function authenticateApiRequest(
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
export function baseFor(c: Context<ApiEnv>, state: EmulatorState, scope: string): SampleBase | Response {
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

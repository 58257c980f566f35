import { type Context, Hono } from "hono";
import { z } from "zod";
import { faultsBodySchema } from "./faults.js";
import type { Grant } from "./grants.js";
import { findTable } from "./sample-data.js";
import { isKnownScope } from "./scopes.js";
import type { EmulatorState } from "./state.js";
import { webhookControlRoutes } from "./webhooks.js";

export const CONTROL_PREFIX = "/__emulator";

const clockBodySchema = z.strictObject({
  /** Seconds to move the emulator clock forward (up to 10 years). */
  advance_seconds: z
    .number()
    .finite()
    .min(0)
    .max(10 * 365 * 86_400),
});

const scopesBodySchema = z.strictObject({
  /** Whose: an integration's client id; absent = the first integration. */
  client_id: z.string().min(1).optional(),
  /** The integration's enabled scopes from now on. */
  scopes: z
    .array(z.string().refine(isKnownScope, { message: "unknown scope" }))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { message: "lists a scope twice" }),
});

const tokenBodySchema = z.strictObject({
  /** An access token or a refresh token (a rotated one too) issued under the grant. */
  token: z.string().min(1),
});

const basesBodySchema = z.strictObject({
  /** `"all"` (every base, now and later) or the ids of the bases the grant reaches. */
  bases: z.union([
    z.literal("all"),
    z
      .array(z.string().regex(/^app[A-Za-z0-9]{14}$/, "not a base id"))
      .refine((ids) => new Set(ids).size === ids.length, {
        message: "lists a base twice",
      }),
  ]),
});

function grantView(grant: Grant) {
  return {
    id: grant.id,
    client_id: grant.clientId,
    scopes: [...grant.scopes],
    bases: grant.bases === "all" ? "all" : [...grant.bases],
  };
}

const notFound = (c: Context, what: string) => c.json({ error: "not_found", message: `No ${what}.` }, 404);

/** Reads a JSON body and validates it; the error answer names the problem. */
async function readJson<T>(
  c: Context,
  schema: z.ZodType<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, response: c.json({ error: "invalid_body", message: "The body must be JSON." }, 400) };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return { ok: false, response: c.json({ error: "invalid_body", message }, 400) };
  }
  return { ok: true, value: parsed.data };
}

/**
 * An integration's enabled scopes: `GET /scopes?client_id=` and `POST /scopes {scopes, client_id?}`
 * (absent client_id = the first integration); an unknown client id is a 404.
 */
function scopeRoutes(routes: Hono, state: EmulatorState): void {
  const view = (c: Context, clientId: string) => {
    const enabled = state.enabledScopesOf(clientId);
    return enabled
      ? c.json({ client_id: clientId, scopes: [...enabled] })
      : notFound(c, `integration with client id ${clientId}`);
  };
  routes.get("/scopes", (c) => view(c, c.req.query("client_id") ?? state.config.clientId));
  routes.post("/scopes", async (c) => {
    const body = await readJson(c, scopesBodySchema);
    if (!body.ok) return body.response;
    const clientId = body.value.client_id ?? state.config.clientId;
    state.setEnabledScopes(body.value.scopes, clientId);
    return view(c, clientId);
  });
}

/**
 * The user's grants (each with its integration's client_id; `GET /grants?client_id=` lists one
 * integration's): list them, find the one a token belongs to, revoke one, change the bases
 * one reaches (the user edits the integration's access on their account).
 */
function grantRoutes(routes: Hono, state: EmulatorState): void {
  routes.get("/grants", (c) => {
    const clientId = c.req.query("client_id");
    const grants = state.grants.listGrants().filter((g) => clientId === undefined || g.clientId === clientId);
    return c.json({ grants: grants.map(grantView) });
  });
  routes.post("/grants/find", async (c) => {
    const body = await readJson(c, tokenBodySchema);
    if (!body.ok) return body.response;
    const grant = state.grants.grantOfToken(body.value.token);
    return grant ? c.json(grantView(grant)) : notFound(c, "live grant holds that token");
  });
  routes.post("/grants/:id/revoke", (c) => {
    const grant = state.grants.findGrant(c.req.param("id"));
    if (!grant) return notFound(c, `live grant ${c.req.param("id")}`);
    state.grants.revokeGrant(grant);
    return c.json({ id: grant.id, revoked: true });
  });
  routes.post("/grants/:id/bases", async (c) => {
    const grant = state.grants.findGrant(c.req.param("id"));
    if (!grant) return notFound(c, `live grant ${c.req.param("id")}`);
    const body = await readJson(c, basesBodySchema);
    if (!body.ok) return body.response;
    const { bases } = body.value;
    const unknown = bases === "all" ? [] : bases.filter((id) => !state.data.baseById.has(id));
    if (unknown.length > 0) {
      return c.json(
        { error: "invalid_body", message: `bases: no base ${unknown.join(", ")} in the emulator's data` },
        400,
      );
    }
    state.grants.setGrantBases(grant, bases === "all" ? "all" : new Set(bases));
    return c.json(grantView(grant));
  });
}

/**
 * A table's records as stored, every field present (`null` when empty), with no token and no
 * rate limit: for tests that check what their writes did.
 */
function dataRoutes(routes: Hono, state: EmulatorState): void {
  routes.get("/bases/:baseId/tables/:tableIdOrName/records", (c) => {
    const base = state.data.baseById.get(c.req.param("baseId"));
    const table = base && findTable(base, c.req.param("tableIdOrName"));
    if (!table) return notFound(c, `table ${c.req.param("tableIdOrName")} in base ${c.req.param("baseId")}`);
    const records = table.records.map((record) => ({
      id: record.id,
      createdTime: record.createdTime,
      fields: Object.fromEntries(table.fields.map((f) => [f.name, record.fields[f.name] ?? null])),
    }));
    return c.json({ records });
  });
}

/**
 * The test-only control API: stats, clock, faults, enabled scopes, grants (list, find by token,
 * revoke one, change its bases), revoke all (the user removes the integration), stored records
 * and reset.
 */
export function controlRoutes(state: EmulatorState): Hono {
  const routes = new Hono().basePath(CONTROL_PREFIX);

  routes.get("/stats", (c) => c.json(state.stats));

  routes.get("/clock", (c) =>
    c.json({ now: new Date(state.clock.now()).toISOString(), offset_seconds: state.clock.offsetSeconds }),
  );
  routes.post("/clock", async (c) => {
    const body = await readJson(c, clockBodySchema);
    if (!body.ok) return body.response;
    state.clock.advance(body.value.advance_seconds);
    return c.json({
      now: new Date(state.clock.now()).toISOString(),
      offset_seconds: state.clock.offsetSeconds,
    });
  });

  routes.get("/faults", (c) => c.json(state.faults.snapshot()));
  routes.post("/faults", async (c) => {
    const body = await readJson(c, faultsBodySchema);
    if (!body.ok) return body.response;
    state.faults.arm(body.value);
    return c.json(state.faults.snapshot());
  });
  routes.delete("/faults", (c) => {
    state.faults.clear();
    return c.json(state.faults.snapshot());
  });

  scopeRoutes(routes, state);

  routes.post("/revoke", (c) => c.json({ revoked_grants: state.grants.revokeAll() }));
  grantRoutes(routes, state);
  dataRoutes(routes, state);

  webhookControlRoutes(routes, state);

  routes.post("/reset", (c) => {
    state.reset();
    return c.json({ reset: true });
  });

  routes.all("/*", (c) =>
    c.json({ error: "not_found", message: `No control endpoint ${c.req.method} ${c.req.path}.` }, 404),
  );
  return routes;
}

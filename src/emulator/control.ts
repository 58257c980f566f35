import { type Context, Hono } from "hono";
import { z } from "zod";
import { faultsBodySchema } from "./faults.js";
import { isKnownScope } from "./scopes.js";
import type { EmulatorState } from "./state.js";

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
  /** The integration's enabled scopes from now on. */
  scopes: z
    .array(z.string().refine(isKnownScope, { message: "unknown scope" }))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { message: "lists a scope twice" }),
});

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
 * The test-only control API: stats, clock, faults, enabled scopes, revoke (the user removes the
 * integration) and reset.
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

  routes.get("/scopes", (c) => c.json({ scopes: [...state.enabledScopes] }));
  routes.post("/scopes", async (c) => {
    const body = await readJson(c, scopesBodySchema);
    if (!body.ok) return body.response;
    state.setEnabledScopes(body.value.scopes);
    return c.json({ scopes: [...state.enabledScopes] });
  });

  routes.post("/revoke", (c) => c.json({ revoked_grants: state.grants.revokeAll() }));

  routes.post("/reset", (c) => {
    state.reset();
    return c.json({ reset: true });
  });

  routes.all("/*", (c) =>
    c.json({ error: "not_found", message: `No control endpoint ${c.req.method} ${c.req.path}.` }, 404),
  );
  return routes;
}

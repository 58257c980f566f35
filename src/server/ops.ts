/**
 * Operations endpoints: `GET /healthz` (the store accepts a write), `GET /metrics` (Prometheus
 * text; the connection gauge is sampled at scrape time). `GET /openapi.json` is served by app.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { AirlockError, errorCode } from "../shared/errors.js";
import { CONNECTION_STATUSES } from "../store/types.js";
import type { ServiceContext } from "./context.js";
import type { AppEnv } from "./request-log.js";
import { validationHook } from "./validation-hook.js";

const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    store: z.enum(["sqlite", "postgres"]),
    demo: z.boolean(),
    held_rotations: z.number().int().min(0).openapi({
      description:
        "Rotated tokens this instance holds in memory because the store has not confirmed them yet (retried until it does).",
      example: 0,
    }),
    store_error: z.string().optional().openapi({
      description:
        "Only when unavailable: the database driver's error code (SQLITE_FULL, SQLITE_READONLY, ECONNREFUSED, 57P01...).",
      example: "SQLITE_FULL",
    }),
  })
  .openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness, and whether the store accepts writes",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "The store cannot write (down, unreachable, disk full, read-only, locked)",
      content: { "application/json": { schema: HealthSchema } },
    },
  },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operations"],
  summary: "Prometheus metrics",
  responses: {
    200: { description: "Prometheus text exposition", content: { "text/plain": { schema: z.string() } } },
  },
});

/**
 * The operations routes.
 */
export function opsRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(healthRoute, async (c) => {
    const heldRotations = ctx.integrations.list().reduce((sum, i) => sum + i.tokens.heldRotations, 0);
    const base = { store: ctx.store.kind, demo: ctx.demo !== null, held_rotations: heldRotations };
    c.header("Cache-Control", "no-store");
    try {
      // One tiny committed write: a store that only reads (full disk, read-only, standby) is not healthy.
      await ctx.store.checkWritable();
      return c.json({ status: "ok" as const, ...base }, 200);
    } catch (error) {
      const storeError = storeErrorCode(error);
      const original = error instanceof AirlockError && error.cause !== undefined ? error.cause : error;
      c.var.log.error({ err: original, store_error: storeError }, "health check: store cannot write");
      return c.json({ status: "unavailable" as const, ...base, store_error: storeError }, 503);
    }
  });

  app.openapi(metricsRoute, async (c) => {
    try {
      // One gauge over every integration's connections.
      const all = await Promise.all(ctx.integrations.list().map((i) => i.store.countConnectionsByStatus()));
      for (const status of CONNECTION_STATUSES) {
        ctx.metrics.connections.set(
          { status },
          all.reduce((sum, counts) => sum + (counts[status] ?? 0), 0),
        );
      }
    } catch (error) {
      // Serve the other metrics anyway; the gauge keeps its last sample.
      c.var.log.warn({ err: error }, "metrics: could not count connections");
    }
    c.header("Content-Type", ctx.metrics.registry.contentType);
    return c.text(await ctx.metrics.registry.metrics(), 200);
  });

  return app;
}

/** The driver's code behind a store failure (`details.store_error`), else the error's own code. */
function storeErrorCode(error: unknown): string {
  if (error instanceof AirlockError) {
    const code = error.details?.store_error;
    return typeof code === "string" ? code : error.code;
  }
  return errorCode(error) ?? "unknown";
}

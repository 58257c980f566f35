/**
 * Operations endpoints: `GET /healthz` (the store answers), `GET /metrics` (Prometheus text; the
 * connection gauge is sampled at scrape time). `GET /openapi.json` is served by app.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ConnectionStatus } from "../store/types.js";
import type { ServiceContext } from "./context.js";
import type { AppEnv } from "./request-log.js";

const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    store: z.enum(["sqlite", "postgres"]),
    demo: z.boolean(),
  })
  .openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness and store reachability",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "The store does not answer",
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

const STATUSES: readonly ConnectionStatus[] = ["active", "reauth_required", "revoked"];

/**
 * The operations routes.
 *
 * @example
 * app.route("/", opsRoutes(ctx));
 */
export function opsRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(healthRoute, async (c) => {
    const base = { store: ctx.store.kind, demo: ctx.demo !== null };
    try {
      await ctx.store.countConnectionsByStatus();
      return c.json({ status: "ok" as const, ...base }, 200);
    } catch (error) {
      c.var.log.error({ err: error }, "health check: store unavailable");
      return c.json({ status: "unavailable" as const, ...base }, 503);
    }
  });

  app.openapi(metricsRoute, async (c) => {
    try {
      const counts = await ctx.store.countConnectionsByStatus();
      for (const status of STATUSES) ctx.metrics.connections.set({ status }, counts[status] ?? 0);
    } catch (error) {
      // Serve the other metrics anyway; the gauge keeps its last sample.
      c.var.log.warn({ err: error }, "metrics: could not count connections");
    }
    c.header("Content-Type", ctx.metrics.registry.contentType);
    return c.text(await ctx.metrics.registry.metrics(), 200);
  });

  return app;
}

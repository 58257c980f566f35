/**
 * Several integrations over HTTP (issue 12): `/v1/integrations` lists and manages them
 * (integrations-api.ts), and every
 * connection route (`/v1/connect-sessions`, `/v1/connections…`, `/v1/proxy/…`) also exists as
 * `/v1/integrations/:integration/…`, acting on that integration's connections. The routes under
 * `/v1` act on `default`, exactly as before there were several.
 *
 * Each integration gets the same route modules, built on its own context; a request under the
 * prefix is handed to them with the prefix taken off (authentication has already run on the full
 * path, so a `proxy` key may call `/v1/integrations/:id/proxy/…` and nothing else).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { AirlockError } from "../shared/errors.js";
import { airtableWebhookRoutes } from "./airtable-webhooks/routes.js";
import { apiRoutes } from "./api.js";
import { contextFor, type ServiceContext } from "./context.js";
import { requestAt } from "./hand-over.js";
import type { Integration } from "./integrations.js";
import { integrationApiRoutes } from "./integrations-api.js";
import { mountProxy } from "./proxy.js";
import type { AppEnv } from "./request-log.js";
import { validationHook } from "./validation-hook.js";

/** `/v1/integrations/<id>` and the rest of the path. */
const PREFIXED = /^\/v1\/integrations\/([^/]+)(\/.*)$/;

/** The routes one integration's connections are reached through, on that integration's context. */
function scopedApp(ctx: ServiceContext): { app: Hono<AppEnv>; close: (graceMs?: number) => Promise<void> } {
  // A plain Hono parent: these routes are documented once, under /v1, not again per integration.
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    const outer = c.env as Partial<AppEnv["Variables"]> | undefined;
    c.set("log", outer?.log ?? ctx.logger);
    c.set("requestId", outer?.requestId ?? "");
    await next();
  });
  app.route("/", apiRoutes(ctx));
  app.route("/", airtableWebhookRoutes(ctx));
  const close = mountProxy(app, ctx);
  // Errors and unknown routes are the outer app's to answer, with its one error shape.
  app.onError((error) => {
    throw error;
  });
  app.notFound((c) => {
    throw new AirlockError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`, {
      hint: "Under /v1/integrations/{integration}/ are the connection routes of /v1: connect-sessions, connections, proxy (GET /openapi.json).",
    });
  });
  return { app, close };
}

/**
 * `GET /v1/integrations` and the `/v1/integrations/:integration/*` routes.
 *
 * @example
 * const integrations = integrationRoutes(ctx);
 * app.route("/", integrations.app);
 */
export function integrationRoutes(ctx: ServiceContext): {
  app: OpenAPIHono<AppEnv>;
  close: (graceMs?: number) => Promise<void>;
} {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Built on first use: integrations created through the API arrive after start.
  const scoped = new Map<Integration, ReturnType<typeof scopedApp>>();
  const scopedFor = (integration: Integration) => {
    let found = scoped.get(integration);
    if (!found) {
      found = scopedApp(contextFor(ctx, integration));
      scoped.set(integration, found);
    }
    return found;
  };

  integrationApiRoutes(app, ctx);

  app.all("/v1/integrations/:integration/*", async (c) => {
    const url = new URL(c.req.url);
    const match = PREFIXED.exec(url.pathname);
    if (!match) {
      throw new AirlockError("not_found", `No route for ${c.req.method} ${url.pathname}.`, {
        hint: "Under /v1/integrations/{integration}/ are the connection routes of /v1: connect-sessions, connections, proxy (GET /openapi.json).",
      });
    }
    // Throws not_found, naming the configured ones, for an id no instance created.
    const integration = await ctx.integrations.require(decodeURIComponent(match[1] ?? ""));
    url.pathname = `/v1${match[2] ?? "/"}`;
    return scopedFor(integration).app.fetch(requestAt(c.req.raw, url), {
      log: c.var.log,
      requestId: c.var.requestId,
    });
  });

  return {
    app,
    close: async (graceMs) => {
      await Promise.all([...scoped.values()].map((s) => s.close(graceMs)));
    },
  };
}

/**
 * Several integrations over HTTP (issue 12): `GET /v1/integrations` lists them, and every
 * connection route (`/v1/connect-sessions`, `/v1/connections…`, `/v1/proxy/…`) also exists as
 * `/v1/integrations/:integration/…`, acting on that integration's connections. The routes under
 * `/v1` act on `default`, exactly as before there were several.
 *
 * Each integration gets the same route modules, built on its own context; a request under the
 * prefix is handed to them with the prefix taken off (authentication has already run on the full
 * path, so a `proxy` key may call `/v1/integrations/:id/proxy/…` and nothing else).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Hono } from "hono";
import { AirlockError } from "../shared/errors.js";
import { airtableWebhookRoutes } from "./airtable-webhooks/routes.js";
import { apiRoutes } from "./api.js";
import { contextFor, type ServiceContext } from "./context.js";
import { commonErrors, json, security } from "./openapi-responses.js";
import { mountProxy } from "./proxy.js";
import type { AppEnv } from "./request-log.js";

/** `/v1/integrations/<id>` and the rest of the path. */
const PREFIXED = /^\/v1\/integrations\/([^/]+)(\/.*)$/;

const IntegrationSchema = z
  .object({
    id: z.string().openapi({ example: "readonly" }),
    name: z.string(),
    client_id: z.string(),
    scopes: z
      .array(z.string())
      .openapi({ description: "Its scopes: connect sessions ask for these or a subset." }),
    default: z
      .boolean()
      .openapi({ description: "True for the AIRTABLE_* integration, the one /v1 routes act on." }),
    routes: z
      .string()
      .openapi({ example: "/v1/integrations/readonly", description: "Prefix of its connection routes." }),
  })
  .openapi("Integration");

const listIntegrationsRoute = createRoute({
  method: "get",
  path: "/v1/integrations",
  tags: ["integrations"],
  summary: "List the Airtable OAuth integrations this deployment acts for",
  description:
    "`default` is the AIRTABLE_* one; more come from AIRLOCK_INTEGRATIONS_FILE. Every connection route also exists under `/v1/integrations/{integration}/` (e.g. `POST /v1/integrations/readonly/connect-sessions`, `GET /v1/integrations/readonly/connections/{identifier}`, `ANY /v1/integrations/readonly/proxy/{identifier}/v0/…`), acting on that integration's connections; a connection is keyed by (integration, identifier).",
  security,
  responses: {
    200: {
      description: "The integrations",
      content: json(z.object({ integrations: z.array(IntegrationSchema) })),
    },
    ...commonErrors,
  },
});

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
  const app = new OpenAPIHono<AppEnv>();
  const scoped = new Map(
    ctx.integrations.list().map((integration) => [integration.id, scopedApp(contextFor(ctx, integration))]),
  );

  app.openapi(listIntegrationsRoute, (c) =>
    c.json(
      {
        integrations: ctx.integrations.list().map((integration) => ({
          id: integration.id,
          name: integration.name,
          client_id: integration.clientId,
          scopes: [...integration.scopes],
          default: integration === ctx.integrations.default,
          routes: `/v1/integrations/${integration.id}`,
        })),
      },
      200,
    ),
  );

  app.all("/v1/integrations/:integration/*", async (c) => {
    const url = new URL(c.req.url);
    const match = PREFIXED.exec(url.pathname);
    const target = match ? scoped.get(decodeURIComponent(match[1] ?? "")) : undefined;
    if (!match || !target) ctx.integrations.get(decodeURIComponent(match?.[1] ?? "")); // throws not_found, naming them
    url.pathname = `/v1${match?.[2] ?? "/"}`;
    // The request as the integration's routes see it; its body streams through unread.
    const raw = c.req.raw;
    const inner = new Request(url, {
      method: raw.method,
      headers: raw.headers,
      body: raw.method === "GET" || raw.method === "HEAD" ? null : raw.body,
      signal: raw.signal,
      duplex: "half",
    } as RequestInit);
    return target!.app.fetch(inner, { log: c.var.log, requestId: c.var.requestId });
  });

  return {
    app,
    close: async (graceMs) => {
      await Promise.all([...scoped.values()].map((s) => s.close(graceMs)));
    },
  };
}

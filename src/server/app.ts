/**
 * The service's Hono app: request logging, authentication for `/v1/*`, the API (Airtable webhooks
 * and their notification route included), the proxy, the connect flow, operations endpoints, the
 * dashboard, one error handler, and `GET /openapi.json`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { AirlockError } from "../shared/errors.js";
import { airtableWebhookRoutes, notificationRoutes } from "./airtable-webhooks/routes.js";
import { apiRoutes } from "./api.js";
import { apiKeyRoutes } from "./api-keys.js";
import { requireSecretKey } from "./auth.js";
import { authThrottle } from "./auth-throttle.js";
import { CALLBACK_PATH } from "./config.js";
import { connectFlowRoutes } from "./connect-flow.js";
import type { ServiceContext } from "./context.js";
import { dashboardRoutes } from "./dashboard/index.js";
import { FAVICON_PATH, favicon } from "./favicon.js";
import { errorResponse, forEndUser, statusForCode, toAirlockError } from "./http-errors.js";
import { integrationRoutes } from "./integration-routes.js";
import { buildOpenApiDocument } from "./openapi.js";
import { opsRoutes } from "./ops.js";
import { mountProxy } from "./proxy.js";
import type { AppEnv } from "./request-log.js";
import { requestLog } from "./request-log.js";

export interface ServiceApp {
  app: OpenAPIHono<AppEnv>;
  /** Closes the proxy's upstream connection pool; requests still running get `graceMs`, then are cut. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Builds the app for a context. `options.dashboard` replaces the dashboard (tests), `false` omits it.
 */
export function createApp(ctx: ServiceContext, options: { dashboard?: Hono | false } = {}): ServiceApp {
  const secretKey = ctx.config.secretKey;
  if (!secretKey) {
    throw new AirlockError("config_invalid", "AIRLOCK_SECRET_KEY is not set.", {
      hint: "Set AIRLOCK_SECRET_KEY to a long random string, e.g. `openssl rand -hex 32`.",
    });
  }
  const app = new OpenAPIHono<AppEnv>();
  app.openAPIRegistry.registerComponent("securitySchemes", "secretKey", {
    type: "http",
    scheme: "bearer",
    description: "AIRLOCK_SECRET_KEY",
  });

  app.use("*", requestLog(ctx.logger));
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  });
  app.use(
    "/v1/*",
    requireSecretKey(secretKey, authThrottle(ctx), { store: ctx.store, now: () => ctx.now() }),
  );

  app.route("/", apiRoutes(ctx));
  app.route("/", apiKeyRoutes(ctx));
  app.route("/", airtableWebhookRoutes(ctx));
  app.route("/", notificationRoutes(ctx));
  const closeProxy = mountProxy(app, ctx);
  const integrations = integrationRoutes(ctx);
  app.route("/", integrations.app);
  app.route("/", connectFlowRoutes(ctx));
  app.route("/", opsRoutes(ctx));
  app.get(FAVICON_PATH, favicon);

  let document: unknown;
  app.get("/openapi.json", (c) => {
    document ??= buildOpenApiDocument(app, ctx);
    return c.json(document as Record<string, unknown>);
  });

  if (options.dashboard !== false) {
    app.route("/", options.dashboard ?? dashboardRoutes(ctx, { api: async (request) => app.fetch(request) }));
  }

  app.notFound((c) =>
    errorResponse(
      c,
      new AirlockError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`, {
        hint: "See GET /openapi.json for every route.",
      }),
    ),
  );
  app.onError((error, c) => {
    // HTTPExceptions (body limits, malformed JSON, a wrong Content-Type) are mapped in http-errors.ts.
    const err = toAirlockError(error);
    if (statusForCode(err.code) >= 500 && err.code !== "transient" && err.code !== "timeout") {
      (c.var.log ?? ctx.logger).error(
        { err: err.code === "internal" ? error : undefined, code: err.code },
        err.message,
      );
    }
    // The rest of an oversized body was never read: the connection cannot carry another request.
    if (err.code === "payload_too_large") c.header("Connection", "close");
    // End users' pages (connect links, the OAuth callback) get no store location in the hint.
    return errorResponse(c, isEndUserPath(c.req.path) ? forEndUser(err) : err);
  });

  return {
    app,
    close: async (graceMs) => {
      await Promise.all([closeProxy(graceMs), integrations.close(graceMs)]);
    },
  };
}

function isEndUserPath(path: string): boolean {
  return path.startsWith("/connect/") || path === CALLBACK_PATH;
}

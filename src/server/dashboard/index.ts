/**
 * The dashboard at `/`: sign in with the secret key, see and manage connections, create connect
 * links, and try a connection through the proxy. Server-rendered HTML, one stylesheet, one tiny
 * script; every form carries a CSRF token bound to the session and every POST checks it. Every URL
 * a page leaves in the address bar can be reopened (reads are GETs, POSTs redirect), and browsers
 * asking for an unknown page get an HTML 404 page.
 *
 * This module wires the pages together; each page (or group of pages) lives in its own module,
 * behind the session and CSRF guards of guards.ts.
 */
import { type Context, Hono, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { contextFor, type ServiceContext } from "../context.js";
import { requestAt } from "../hand-over.js";
import { wantsHtml } from "../html-document.js";
import type { Integration } from "../integrations.js";
import { apiKeyPageRoutes } from "./api-keys.js";
import { ASSET_VERSION, DASHBOARD_CSS, DASHBOARD_JS } from "./assets.js";
import { connectionRoutes } from "./connection.js";
import { connectionActionRoutes } from "./connection-actions.js";
import { connectionsRoutes } from "./connections.js";
import { type DashboardContext, dashboardContext, fail, readSession } from "./dashboard-context.js";
import { integrationsPageRoutes } from "./integrations.js";
import { landingRoutes } from "./landing.js";
import { sessionEpochCheck } from "./session.js";
import { signInRoutes } from "./sign-in.js";
import type { ApiFetch } from "./try-it.js";
import { tryItRoutes } from "./try-it-page.js";

export type { ApiFetch } from "./try-it.js";

export interface DashboardOptions {
  /**
   * How the "Try it" panel reaches the proxy. Pass the app's own fetch (`(r) => app.fetch(r)`) so the
   * call runs in-process through the same middleware and proxy code; by default it is HTTP to
   * `AIRLOCK_PUBLIC_URL`.
   */
  api?: ApiFetch;
}

/** Every page the dashboard serves: middleware is scoped to these, never to the whole app it joins. */
const DASHBOARD_PATHS = [
  "/",
  "/login",
  "/logout",
  "/connected",
  "/connections",
  "/connections/*",
  "/api-keys",
  "/api-keys/*",
  "/integrations",
  "/integrations/*",
  "/assets/*",
];

/**
 * The dashboard's routes, to mount at `/` next to the API.
 */
export function dashboardRoutes(ctx: ServiceContext, options: DashboardOptions = {}): Hono {
  const app = new Hono();
  const d = dashboardContext(ctx, options.api ?? ((request) => fetch(request)));
  for (const path of DASHBOARD_PATHS) app.use(path, d.headers);
  // A sign-out on any instance ends older signed-in sessions: pages read the epoch before the session.
  for (const path of DASHBOARD_PATHS)
    if (path !== "/assets/*") app.use(path, sessionEpochCheck(ctx.store, d.sessions));
  // Dashboard forms are a few fields; anything bigger is not ours.
  for (const path of DASHBOARD_PATHS) app.on("POST", path, bodyLimit({ maxSize: 32 * 1024 }));

  assetRoutes(app);
  signInRoutes(app, d);
  connectionPageRoutes(app, d);
  apiKeyPageRoutes(app, d);
  integrationsPageRoutes(app, d);
  integrationPageRoutes(app, d);
  // Last: it answers only GETs no route above answered.
  unknownPageRoute(app, d);
  return app;
}

/** The pages of one integration's connections (list, one connection, its actions, Try it, a connect link's return). */
function connectionPageRoutes(app: Hono, d: DashboardContext): void {
  connectionsRoutes(app, d);
  connectionRoutes(app, d);
  connectionActionRoutes(app, d);
  tryItRoutes(app, d);
  landingRoutes(app, d);
}

/**
 * Every other integration's connection pages, under `/integrations/:id`: the same pages, built on
 * first use on that integration's context (integrations created through the API arrive after
 * start), handed the request with the prefix taken off. An unknown id falls through to the 404 page.
 */
function integrationPageRoutes(app: Hono, d: DashboardContext): void {
  const built = new Map<Integration, Hono>();
  const pagesFor = (integration: Integration): Hono => {
    let pages = built.get(integration);
    if (!pages) {
      pages = new Hono();
      connectionPageRoutes(pages, dashboardContext(contextFor(d.ctx, integration), d.api));
      built.set(integration, pages);
    }
    return pages;
  };
  const handOver = async (c: Context, next: Next) => {
    const integration = await d.ctx.integrations.resolve(c.req.param("integration") ?? "");
    if (!integration || integration === d.ctx.integrations.default) return next();
    const url = new URL(c.req.url);
    url.pathname = url.pathname.slice(`/integrations/${integration.id}`.length) || "/";
    const answer = await pagesFor(integration).fetch(requestAt(c.req.raw, url));
    return answer.status === 404 && !answer.headers.get("content-type")?.includes("html") ? next() : answer;
  };
  app.all("/integrations/:integration", handOver);
  app.all("/integrations/:integration/*", handOver);
}

/** The stylesheet and script: content-hashed URLs, so they can be cached for good. */
function assetRoutes(app: Hono): void {
  const cacheControl = (version: string | undefined, current: string) =>
    version === current ? "public, max-age=31536000, immutable" : "no-cache";
  app.get("/assets/dashboard.css", (c) => {
    c.header("Cache-Control", cacheControl(c.req.query("v"), ASSET_VERSION.css));
    return c.body(DASHBOARD_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
  });
  app.get("/assets/dashboard.js", (c) => {
    c.header("Cache-Control", cacheControl(c.req.query("v"), ASSET_VERSION.js));
    return c.body(DASHBOARD_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });
}

/**
 * Mounted last in the app, so this runs only for GETs no route answered: browsers get an HTML page
 * (with the pages' headers), API clients the app's JSON 404.
 */
function unknownPageRoute(app: Hono, d: DashboardContext): void {
  app.get("*", (c, next) => {
    if (!wantsHtml(c)) return next();
    return d.headers(c, async () => {
      const session = readSession(d, c);
      c.res = await fail(d, c, session?.kind === "user" ? session : null, 404, {
        kind: "error",
        message: `There is no page at ${c.req.path}.`,
        hint: "Check the address, or start from the list of connections.",
      });
    });
  });
}

/**
 * Where a connect link sends the browser back (`/connected`, or `/` given as a return_url): the admin
 * goes on to the connection, anyone else (an end user who got the link) sees a plain page saying what
 * happened, and nothing of the dashboard.
 */
import type { Context, Hono } from "hono";
import { IDENTIFIER_PATTERN } from "../validation.js";
import { type DashboardContext, type PageResponse, readSession, render } from "./dashboard-context.js";
import { connectedPage } from "./views.js";

/** OAuth error codes as Airtable spells them; anything else is not repeated back. */
const ERROR_CODE = /^[a-z_]{1,64}$/;

/**
 * Mounts `GET /connected`.
 */
export function landingRoutes(app: Hono, d: DashboardContext): void {
  app.get("/connected", (c) => landing(d, c));
}

/**
 * True when a request to `/` is a connect link's return (an app gave the front page as its
 * return_url): the outcome must not be lost on the way through /login.
 */
export function isLanding(c: Context): boolean {
  return (
    c.req.query("identifier") !== undefined && ["connected", "error"].includes(c.req.query("status") ?? "")
  );
}

/**
 * Answers a connect link's return: a redirect to the connection for the admin, else a plain page.
 */
export function landing(d: DashboardContext, c: Context): PageResponse {
  const identifier = c.req.query("identifier") ?? null;
  const status = c.req.query("status") ?? null;
  const error = c.req.query("error") ?? null;
  const session = readSession(d, c);
  if (session?.kind === "user" && identifier && IDENTIFIER_PATTERN.test(identifier)) {
    const query = new URLSearchParams({
      ...(status ? { status: status === "connected" ? "connected" : "error" } : {}),
      ...(error && ERROR_CODE.test(error) ? { error } : {}),
    });
    return c.redirect(`${d.base}/connections/${encodeURIComponent(identifier)}?${query}`, 303);
  }
  return render(
    c,
    connectedPage(d.chrome(status === "connected" ? "Connected" : "Not connected", null), {
      identifier,
      status,
      error: error && ERROR_CODE.test(error) ? error : null,
    }),
  );
}

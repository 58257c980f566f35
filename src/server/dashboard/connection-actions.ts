/**
 * What the admin can do to one connection: Reconnect (a new connect link with its scopes) and
 * Disconnect (after a confirmation page). Both POSTs end on a page whose URL can be reopened.
 */
import type { Context, Hono } from "hono";
import { createConnectSession } from "../connect-sessions.js";
import { disconnect } from "../disconnect.js";
import {
  type DashboardContext,
  notFound,
  pathIdentifier,
  render,
  returnUrlFor,
} from "./dashboard-context.js";
import { checkedForm, type FormEnv, type SignedInEnv, signedIn } from "./guards.js";
import { connectLinkPage, disconnectPage } from "./views.js";

const connectionPath = (d: DashboardContext, identifier: string) =>
  `${d.base}/connections/${encodeURIComponent(identifier)}`;

/**
 * Mounts `/connections/:identifier/reconnect` and `/connections/:identifier/disconnect`.
 */
export function connectionActionRoutes(app: Hono, d: DashboardContext): void {
  // The reconnect link page is shown once; its URL leads back to the connection.
  app.get("/connections/:identifier/reconnect", (c) => {
    const identifier = pathIdentifier(c);
    return c.redirect(identifier ? connectionPath(d, identifier) : d.base || "/", 303);
  });
  app.post("/connections/:identifier/reconnect", checkedForm(d, "user"), (c) => reconnect(d, c));
  app.get("/connections/:identifier/disconnect", signedIn(d), (c) => confirmDisconnect(d, c));
  app.post("/connections/:identifier/disconnect", checkedForm(d, "user"), (c) => disconnectNow(d, c));
}

async function reconnect(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const identifier = pathIdentifier(c);
  const connection = identifier ? await d.ctx.store.getConnection(identifier) : null;
  if (!identifier || !connection) return notFound(d, c, c.var.session, identifier);
  const created = await createConnectSession(d.ctx, {
    identifier,
    // Scopes the service no longer offers would fail the link; the rest carry over.
    scopes: connection.scopes.filter((s) => d.ctx.integration.scopes.includes(s)),
    returnUrl: returnUrlFor(d, identifier),
  });
  return render(
    c,
    connectLinkPage(d.chrome("Reconnect link", c.var.session), {
      identifier,
      url: created.url,
      expiresAt: new Date(created.expires_at),
      reconnect: true,
    }),
  );
}

async function confirmDisconnect(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const { session } = c.var;
  const identifier = pathIdentifier(c);
  const connection = identifier ? await d.ctx.store.getConnection(identifier) : null;
  if (!identifier || !connection) return notFound(d, c, session, identifier);
  if (connection.status === "revoked") return c.redirect(connectionPath(d, identifier), 303);
  return render(
    c,
    disconnectPage(d.chrome(`Disconnect ${identifier}`, session), {
      csrf: d.sessions().csrfToken(session),
      identifier,
    }),
  );
}

async function disconnectNow(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const identifier = pathIdentifier(c);
  const outcome = identifier ? await disconnect(d.ctx, identifier, "dashboard") : "not_found";
  if (!identifier || outcome === "not_found") return notFound(d, c, c.var.session, identifier);
  d.ctx.logger.info(
    { identifier, outcome, event: "dashboard.disconnect" },
    "connection disconnected from the dashboard",
  );
  return c.redirect(`${connectionPath(d, identifier)}?disconnected`, 303);
}

/**
 * One connection's page (`/connections/:identifier`): its state, its Airtable webhooks, its events,
 * and what the last redirect brought back (connected, failed, disconnected). An identifier with no
 * connection gets the story of its last attempt instead.
 */
import type { Context, Hono } from "hono";
import { AirlockError } from "../../shared/errors.js";
import { CONNECT_FAILED_EVENT } from "../connect-flow.js";
import { airtableWebhooksSection, airtableWebhookViews } from "./airtable-webhooks-view.js";
import { type DashboardContext, EVENT_LIMIT, notFound, pathIdentifier, render } from "./dashboard-context.js";
import { describeAttempt } from "./format.js";
import { type SignedInEnv, signedIn } from "./guards.js";
import type { DashboardSession } from "./session.js";
import { connectionPage, type Html, type Notice, noConnectionPage, type TryItView } from "./views.js";

/**
 * Mounts `GET /connections/:identifier`.
 */
export function connectionRoutes(app: Hono, d: DashboardContext): void {
  app.get("/connections/:identifier", signedIn(d), (c) => showConnection(d, c));
}

/**
 * A connection's page with an optional notice at the top and an optional Try it result.
 */
export async function detailView(
  d: DashboardContext,
  session: DashboardSession,
  identifier: string,
  notice: Notice | null,
  tryIt: TryItView | null,
): Promise<Html> {
  const [connection, events, webhooks] = await Promise.all([
    d.ctx.store.getConnection(identifier),
    d.ctx.store.listEvents(identifier, { limit: EVENT_LIMIT }),
    d.ctx.store.listAirtableWebhooks(identifier),
  ]);
  if (!connection) throw new AirlockError("not_found", `There is no connection "${identifier}".`);
  // Only the summary reaches the template: tokens never come near the HTML.
  const { accessToken: _a, refreshToken: _r, ...summary } = connection;
  const chrome = d.chrome(identifier, session);
  const views = airtableWebhookViews(webhooks, connection.status);
  return connectionPage(chrome, {
    csrf: d.sessions().csrfToken(session),
    connection: summary,
    events,
    notice,
    tryIt,
    airtableWebhooks: airtableWebhooksSection(connection.identifier, views, chrome.now),
  });
}

async function showConnection(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const { session } = c.var;
  const identifier = pathIdentifier(c);
  if (!identifier) return notFound(d, c, session, null);
  const connection = await d.ctx.store.getConnection(identifier);
  if (!connection) return noConnection(d, c, session, identifier);
  return render(c, await detailView(d, session, connection.identifier, flash(c, identifier), null));
}

/** What the redirect to this page reports: a disconnect, or a connect link's outcome. */
function flash(c: Context, identifier: string): Notice | null {
  if (c.req.query("disconnected") !== undefined) {
    return {
      kind: "ok",
      message: `Disconnected ${identifier}.`,
      hint: "Its tokens are erased and your app's calls for it now get 409. The event history stays; Reconnect makes a link to connect it again.",
    };
  }
  const status = c.req.query("status");
  if (status === "connected") {
    return {
      kind: "ok",
      message: "Connected. Airtable approved the authorization and Airlock stored the tokens.",
    };
  }
  if (status === "error") {
    return {
      kind: "error",
      message: `The connection attempt failed: ${describeOAuthError(c.req.query("error"))}.`,
      hint: "Create a new link and try again.",
    };
  }
  return null;
}

/**
 * The page of an identifier without a connection: what happened to its last attempt (a pending
 * link, a declined consent…) and its history; a 404 when nothing at all is known about it.
 */
async function noConnection(
  d: DashboardContext,
  c: Context,
  session: DashboardSession,
  identifier: string,
): Promise<Response> {
  const [attempt, events] = await Promise.all([
    d.ctx.store.latestConnectAttempt(identifier),
    d.ctx.store.listEvents(identifier, { limit: EVENT_LIMIT }),
  ]);
  const failure = events.find((e) => e.type === CONNECT_FAILED_EVENT);
  const described = describeAttempt(attempt, failure, d.ctx.now());
  if (!described && events.length === 0) return notFound(d, c, session, identifier);
  return render(
    c,
    noConnectionPage(d.chrome(identifier, session), {
      csrf: d.sessions().csrfToken(session),
      identifier,
      attempt: described ?? {
        kind: "warn",
        message: "It has no connection now; its history is below.",
        hint: "Create a new link to connect it.",
      },
      events,
      scopes: [...d.ctx.integration.scopes],
    }),
  );
}

function describeOAuthError(error: string | undefined): string {
  if (error === "access_denied") return "access was declined on the consent page (access_denied)";
  if (error && /^[a-z_]{1,64}$/.test(error)) return error.replaceAll("_", " ");
  return "an unknown error";
}

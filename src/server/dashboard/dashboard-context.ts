/**
 * What every dashboard page shares: the service context, the session codec, the page chrome, and
 * the few ways a page answers (render, error page, 404). Built once per `dashboardRoutes` (index.ts).
 */
import { readFileSync } from "node:fs";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AirlockError } from "../../shared/errors.js";
import { DEFAULT_INTEGRATION } from "../../store/index.js";
import type { ServiceConfig } from "../config.js";
import type { ServiceContext } from "../context.js";
import { demoKeysPath } from "../demo-keys.js";
import { pageHeaders } from "../html-document.js";
import { IDENTIFIER_PATTERN } from "../validation.js";
import { type DashboardSession, type SessionCodec, sessionCodec } from "./session.js";
import type { ApiFetch } from "./try-it.js";
import { type Chrome, errorPage, type Html, type Notice } from "./views.js";

/** What a page answers: `c.html` gives a promise when the markup has async parts. */
export type PageResponse = Response | Promise<Response>;

/** How many events a connection's page shows. */
export const EVENT_LIMIT = 50;

export interface DashboardContext {
  readonly ctx: ServiceContext;
  /** How the "Try it" panel reaches the proxy. */
  readonly api: ApiFetch;
  /** The pages' security headers (CSP and the rest). */
  readonly headers: MiddlewareHandler;
  /** The session codec; throws `config_invalid` when no secret key is set. */
  sessions(): SessionCodec;
  /** The layout's data: the nav and sign-out button appear only for a signed-in session. */
  chrome(title: string, session: DashboardSession | null): Chrome;
  /** The prefix of this dashboard's connection pages: "" for the default integration, else `/integrations/<id>`. */
  readonly base: string;
}

/** Where an integration's connection pages live in the dashboard ("" for the default one). */
export function integrationBase(id: string): string {
  return id === DEFAULT_INTEGRATION ? "" : `/integrations/${id}`;
}

/**
 * Builds the shared state of one dashboard.
 */
export function dashboardContext(ctx: ServiceContext, api: ApiFetch): DashboardContext {
  let codec: SessionCodec | null = null;
  // Lazy: a service without a secret key still starts; only its dashboard pages fail, and say why.
  const sessions = (): SessionCodec => {
    const secretKey = ctx.config.secretKey;
    if (!secretKey) {
      throw new AirlockError("config_invalid", "AIRLOCK_SECRET_KEY is not set, so nobody can sign in.", {
        hint: "Set AIRLOCK_SECRET_KEY (e.g. `openssl rand -hex 32`) and restart the service.",
      });
    }
    codec ??= sessionCodec({ secretKey, secure: ctx.config.publicUrl.startsWith("https:") });
    return codec;
  };
  const demo = ctx.demo ? { ...ctx.demo, keyFile: keptDemoKeyFile(ctx.config) } : null;
  const base = integrationBase(ctx.integration.id);
  const integrations = ctx.integrations
    .list()
    .map((i) => ({ id: i.id, name: i.name, base: integrationBase(i.id) }));
  return {
    ctx,
    base,
    api,
    headers: pageHeaders({ https: ctx.config.publicUrl.startsWith("https:") }),
    sessions,
    chrome: (title, session) => ({
      title,
      demo,
      csrf: session?.kind === "user" ? sessions().csrfToken(session) : null,
      now: ctx.now(),
      base,
      integrations,
    }),
  };
}

/**
 * The request's session (signed in or anonymous), or null when it has none that is valid.
 */
export function readSession(d: DashboardContext, c: Context): DashboardSession | null {
  return d.sessions().read(getCookie(c, d.sessions().cookieName), d.ctx.now());
}

/**
 * Answers with a page; dashboard pages are never cached (they carry CSRF tokens and live data).
 */
export function render(c: Context, markup: Html, status: ContentfulStatusCode = 200): PageResponse {
  c.header("Cache-Control", "no-store");
  return c.html(markup, status);
}

/**
 * Answers with the error page.
 */
export function fail(
  d: DashboardContext,
  c: Context,
  session: DashboardSession | null,
  status: ContentfulStatusCode,
  notice: Notice,
): PageResponse {
  const title = status === 404 ? "Not found" : "Something went wrong";
  return render(c, errorPage(d.chrome(title, session), notice), status);
}

/**
 * The 404 page of a connection: `identifier` is null when the path cannot be an identifier at all.
 */
export function notFound(
  d: DashboardContext,
  c: Context,
  session: DashboardSession,
  identifier: string | null,
): PageResponse {
  return fail(d, c, session, 404, {
    kind: "error",
    message: identifier ? `There is no connection "${identifier}".` : "That is not a connection identifier.",
    hint: identifier
      ? "No connect link was ever created for it (or its last one expired long ago). Create one under New connection, or pick a connection from the list."
      : "Identifiers are 1–255 letters, digits and . _ : @ + -. Pick a connection from the list.",
  });
}

/**
 * A connection identifier from the path, or null when it cannot be one.
 */
export function pathIdentifier(c: Context): string | null {
  const identifier = c.req.param("identifier") ?? "";
  return IDENTIFIER_PATTERN.test(identifier) ? identifier : null;
}

/**
 * Where a dashboard-made connect link returns: `/connected`, which sends the admin on to the connection.
 */
export function returnUrlFor(d: DashboardContext, identifier: string): string {
  return `${d.ctx.config.publicUrl}${d.base}/connected?${new URLSearchParams({ identifier })}`;
}

/**
 * The demo key file, when the secret key in use is the one kept there (not AIRLOCK_SECRET_KEY):
 * the sign-in page repeats its path, since the startup banner may have scrolled away.
 */
function keptDemoKeyFile(config: Pick<ServiceConfig, "databaseUrl" | "secretKey">): string | null {
  const path = demoKeysPath(config.databaseUrl);
  try {
    const kept: unknown = JSON.parse(readFileSync(path, "utf8"));
    const key = typeof kept === "object" && kept !== null ? Reflect.get(kept, "secret_key") : undefined;
    return key === config.secretKey ? path : null;
  } catch {
    return null;
  }
}

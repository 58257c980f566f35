/**
 * The dashboard at `/`: sign in with the secret key, see and manage connections, create connect
 * links, and try a connection through the proxy. Server-rendered HTML, one stylesheet, one tiny
 * script; every form carries a CSRF token bound to the session and every POST checks it. Every URL
 * a page leaves in the address bar can be reopened (reads are GETs, POSTs redirect), and browsers
 * asking for an unknown page get an HTML 404 page.
 */
import { readFileSync } from "node:fs";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AirlockError, isAirlockError } from "../../shared/errors.js";
import type { ConnectionStatus } from "../../store/types.js";
import { authThrottle } from "../auth-throttle.js";
import type { ServiceConfig } from "../config.js";
import { CONNECT_FAILED_EVENT } from "../connect-flow.js";
import { createConnectSession } from "../connect-sessions.js";
import type { ServiceContext } from "../context.js";
import { demoKeysPath } from "../demo-keys.js";
import { disconnect } from "../disconnect.js";
import { pageHeaders, wantsHtml } from "../html-document.js";
import { safeEqual } from "../secrets.js";
import { IDENTIFIER_PATTERN } from "../validation.js";
import { ASSET_VERSION, DASHBOARD_CSS, DASHBOARD_JS } from "./assets.js";
import { describeAttempt } from "./format.js";
import {
  CSRF_FIELD,
  type DashboardSession,
  endSession,
  ensureSession,
  type SessionCodec,
  sessionCodec,
  sessionEpochCheck,
  signOutEverywhere,
  startSession,
} from "./session.js";
import { type ApiFetch, BASE_ID_PATTERN, listBases, listTables, type ProxyTarget } from "./try-it.js";
import {
  type Chrome,
  connectedPage,
  connectionPage,
  connectionsPage,
  connectLinkPage,
  disconnectPage,
  errorPage,
  type Html,
  type Notice,
  noConnectionPage,
  signInPage,
  type TryItView,
} from "./views.js";

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
  "/assets/*",
];
const PAGE_SIZE = 50;
const EVENT_LIMIT = 50;
/** The API schema's limit (IDENTIFIER_PATTERN); named here only for the message. */
const MAX_IDENTIFIER_LENGTH = 255;
const STATUSES: readonly ConnectionStatus[] = ["active", "reauth_required", "revoked"];

type Form = Record<string, string | File | (string | File)[]>;

/**
 * The dashboard's routes, to mount at `/` next to the API.
 *
 * @example
 * const app = new Hono();
 * app.route("/", dashboardRoutes(ctx, { api: (request) => app.fetch(request) }));
 */
export function dashboardRoutes(ctx: ServiceContext, options: DashboardOptions = {}): Hono {
  const app = new Hono();
  const api: ApiFetch = options.api ?? ((request) => fetch(request));
  let codec: SessionCodec | null = null;
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

  const headers = pageHeaders({ https: ctx.config.publicUrl.startsWith("https:") });
  const demo = ctx.demo ? { ...ctx.demo, keyFile: keptDemoKeyFile(ctx.config) } : null;
  for (const path of DASHBOARD_PATHS) app.use(path, headers);
  // A sign-out on any instance ends older signed-in sessions: pages read the epoch before the session.
  for (const path of DASHBOARD_PATHS)
    if (path !== "/assets/*") app.use(path, sessionEpochCheck(ctx.store, sessions));
  // Dashboard forms are a few fields; anything bigger is not ours.
  for (const path of DASHBOARD_PATHS) app.on("POST", path, bodyLimit({ maxSize: 32 * 1024 }));

  const chrome = (title: string, session: DashboardSession | null): Chrome => ({
    title,
    demo,
    csrf: session?.kind === "user" ? sessions().csrfToken(session) : null,
    now: ctx.now(),
  });

  const render = (c: Context, markup: Html, status: ContentfulStatusCode = 200) => {
    c.header("Cache-Control", "no-store");
    return c.html(markup, status);
  };

  const fail = (c: Context, session: DashboardSession | null, status: ContentfulStatusCode, n: Notice) =>
    render(c, errorPage(chrome(status === 404 ? "Not found" : "Something went wrong", session), n), status);

  /** The signed-in session, or a redirect to the sign-in page. */
  const signedIn = (c: Context): DashboardSession | Response => {
    const session = sessions().read(getCookie(c, sessions().cookieName), ctx.now());
    if (session?.kind === "user") return session;
    return c.redirect("/login", 303);
  };

  /** A POSTed form whose CSRF token matches the session (of `kind`), or a 403/redirect. */
  const checkedForm = async (
    c: Context,
    kind: "user" | "any",
  ): Promise<{ session: DashboardSession; form: Form } | Response> => {
    const session = sessions().read(getCookie(c, sessions().cookieName), ctx.now());
    const form = await c.req.parseBody({ all: true }).catch(() => ({}) as Form);
    if (!session || !sessions().checkCsrf(session, form[CSRF_FIELD])) {
      return fail(c, null, 403, {
        kind: "error",
        message: "This form has expired or did not come from the dashboard (CSRF check failed).",
        hint: "Go back, reload the page and submit the form again.",
      });
    }
    if (kind === "user" && session.kind !== "user") return c.redirect("/login", 303);
    return { session, form };
  };

  /** A connection identifier from the path, or null when it cannot be one. */
  const pathIdentifier = (c: Context): string | null => {
    const identifier = c.req.param("identifier") ?? "";
    return IDENTIFIER_PATTERN.test(identifier) ? identifier : null;
  };

  const notFound = (c: Context, session: DashboardSession, identifier: string | null) =>
    fail(c, session, 404, {
      kind: "error",
      message: identifier
        ? `There is no connection "${identifier}".`
        : "That is not a connection identifier.",
      hint: identifier
        ? "No connect link was ever created for it (or its last one expired long ago). Create one under New connection, or pick a connection from the list."
        : "Identifiers are 1–255 letters, digits and . _ : @ + -. Pick a connection from the list.",
    });

  /**
   * The page of an identifier without a connection: what happened to its last attempt (a pending
   * link, a declined consent…) and its history; a 404 when nothing at all is known about it.
   */
  const noConnection = async (c: Context, session: DashboardSession, identifier: string) => {
    const [attempt, events] = await Promise.all([
      ctx.store.latestConnectAttempt(identifier),
      ctx.store.listEvents(identifier, { limit: EVENT_LIMIT }),
    ]);
    const failure = events.find((e) => e.type === CONNECT_FAILED_EVENT);
    const described = describeAttempt(attempt, failure, ctx.now());
    if (!described && events.length === 0) return notFound(c, session, identifier);
    return render(
      c,
      noConnectionPage(chrome(identifier, session), {
        csrf: sessions().csrfToken(session),
        identifier,
        attempt: described ?? {
          kind: "warn",
          message: "It has no connection now; its history is below.",
          hint: "Create a new link to connect it.",
        },
        events,
        scopes: ctx.config.airtable.scopes,
      }),
    );
  };

  /**
   * Where a connect link sends the browser back (`/connected`, or `/` given as a return_url): the
   * admin goes on to the connection, anyone else sees a plain page saying what happened.
   */
  const landing = (c: Context) => {
    const identifier = c.req.query("identifier") ?? null;
    const status = c.req.query("status") ?? null;
    const error = c.req.query("error") ?? null;
    const session = sessions().read(getCookie(c, sessions().cookieName), ctx.now());
    if (session?.kind === "user" && identifier && IDENTIFIER_PATTERN.test(identifier)) {
      const query = new URLSearchParams({
        ...(status ? { status: status === "connected" ? "connected" : "error" } : {}),
        ...(error && /^[a-z_]{1,64}$/.test(error) ? { error } : {}),
      });
      return c.redirect(`/connections/${encodeURIComponent(identifier)}?${query}`, 303);
    }
    return render(
      c,
      connectedPage(chrome(status === "connected" ? "Connected" : "Not connected", null), {
        identifier,
        status,
        error: error && /^[a-z_]{1,64}$/.test(error) ? error : null,
      }),
    );
  };

  // Assets: content-hashed URLs, so they can be cached for good.
  app.get("/assets/dashboard.css", (c) => {
    c.header(
      "Cache-Control",
      c.req.query("v") === ASSET_VERSION.css ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return c.body(DASHBOARD_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
  });
  app.get("/assets/dashboard.js", (c) => {
    c.header(
      "Cache-Control",
      c.req.query("v") === ASSET_VERSION.js ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return c.body(DASHBOARD_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });

  // Sign in and out.
  app.get("/login", (c) => {
    const session = ensureSession(c, sessions(), ctx.now());
    if (session.kind === "user") return c.redirect("/", 303);
    return render(
      c,
      signInPage(chrome("Sign in", null), { csrf: sessions().csrfToken(session), error: null }),
    );
  });

  app.post("/login", async (c) => {
    const checked = await checkedForm(c, "any");
    if (checked instanceof Response) return checked;
    // A fresh anonymous session: each attempt needs a new form.
    const signInAgain = (status: ContentfulStatusCode, error: Notice) => {
      const session = startSession(c, sessions(), "anon", ctx.now());
      return render(
        c,
        signInPage(chrome("Sign in", null), { csrf: sessions().csrfToken(session), error }),
        status,
      );
    };
    // Wrong keys are throttled per address, shared with /v1 (auth-throttle.ts); blocked: right key or not.
    const throttle = authThrottle(ctx);
    const blockedFor = throttle.blockedFor(c);
    if (blockedFor > 0) {
      c.header("Retry-After", String(blockedFor));
      return signInAgain(429, {
        kind: "error",
        message: "Too many failed sign-ins from your address.",
        hint: `Wait ${blockedFor} seconds, then sign in with the AIRLOCK_SECRET_KEY value the service was started with.`,
      });
    }
    const presented = checked.form.secret_key;
    const secretKey = ctx.config.secretKey ?? "";
    if (typeof presented !== "string" || presented.length === 0 || !safeEqual(presented.trim(), secretKey)) {
      const refusedFor = throttle.fail(c);
      ctx.logger.warn(
        { event: "dashboard.sign_in_failed", ...(refusedFor > 0 ? { retry_after_seconds: refusedFor } : {}) },
        "dashboard sign-in with a wrong secret key",
      );
      return signInAgain(401, {
        kind: "error",
        message: "That secret key is not right.",
        hint: "Use the AIRLOCK_SECRET_KEY value the service was started with (printed at startup in demo mode).",
      });
    }
    // A new session on sign-in: a session planted before it (fixation) is worthless afterwards.
    startSession(c, sessions(), "user", ctx.now());
    ctx.logger.info({ event: "dashboard.sign_in" }, "dashboard sign-in");
    return c.redirect("/", 303);
  });

  app.post("/logout", async (c) => {
    const checked = await checkedForm(c, "any");
    if (checked instanceof Response) return checked;
    // Only a signed-in session may end the others (an anonymous form must not sign the admins out).
    if (checked.session.kind === "user") await signOutEverywhere(c, sessions(), ctx.store);
    else endSession(c, sessions());
    return c.redirect("/login", 303);
  });

  // The connections list.
  app.get("/", async (c) => {
    // An app that gave the front page as its return_url: the outcome must not be lost on /login.
    if (
      c.req.query("identifier") !== undefined &&
      ["connected", "error"].includes(c.req.query("status") ?? "")
    ) {
      return landing(c);
    }
    const session = signedIn(c);
    if (session instanceof Response) return session;
    const status = STATUSES.find((s) => s === c.req.query("status")) ?? null;
    const after = c.req.query("after");
    return render(
      c,
      await listView(session, {
        status,
        after: after && IDENTIFIER_PATTERN.test(after) ? after : undefined,
        notice: null,
        form: null,
      }),
    );
  });

  const listView = async (
    session: DashboardSession,
    view: {
      status: ConnectionStatus | null;
      after?: string | undefined;
      notice: Notice | null;
      form: { identifier: string; scopes: string[] } | null;
    },
  ) => {
    const [page, counts] = await Promise.all([
      ctx.store.listConnections({ limit: PAGE_SIZE, after: view.after, status: view.status ?? undefined }),
      ctx.store.countConnectionsByStatus(),
    ]);
    return connectionsPage(chrome("Connections", session), {
      csrf: sessions().csrfToken(session),
      connections: page.items,
      counts,
      status: view.status,
      nextCursor: page.nextCursor,
      scopes: ctx.config.airtable.scopes,
      notice: view.notice,
      form: view.form,
    });
  };

  // New connection: a connect link that returns to the dashboard.
  app.post("/connections", async (c) => {
    const checked = await checkedForm(c, "user");
    if (checked instanceof Response) return checked;
    const { session, form } = checked;
    const identifier = typeof form.identifier === "string" ? form.identifier.trim() : "";
    const picked = [form.scopes ?? []].flat().filter((s): s is string => typeof s === "string");
    try {
      // The same rule as the API's schema (createConnectSession checks it), said precisely for length.
      if (identifier.length > MAX_IDENTIFIER_LENGTH) {
        throw new AirlockError(
          "invalid_input",
          `The identifier is ${identifier.length} characters long; at most ${MAX_IDENTIFIER_LENGTH} are allowed.`,
          { hint: "Use a shorter id for the end user, e.g. their user id in your app." },
        );
      }
      if (picked.length === 0) {
        throw new AirlockError("invalid_input", "Pick at least one scope.", {
          hint: "Tick the scopes the connection needs; schema.bases:read is required for the Try it panel.",
        });
      }
      const created = await createConnectSession(ctx, {
        identifier,
        scopes: picked,
        returnUrl: returnUrlFor(identifier),
      });
      return render(
        c,
        connectLinkPage(chrome("Connect link", session), {
          identifier,
          url: created.url,
          expiresAt: new Date(created.expires_at),
          reconnect: false,
        }),
      );
    } catch (error) {
      if (!isAirlockError(error, "invalid_input")) throw error;
      return render(
        c,
        await listView(session, {
          status: null,
          notice: { kind: "error", message: error.message, hint: error.hint },
          form: { identifier, scopes: picked },
        }),
        400,
      );
    }
  });

  // The link page is shown once (the token is not kept), so its URL leads back to the list.
  app.get("/connections", (c) => c.redirect("/", 303));

  const returnUrlFor = (identifier: string) =>
    `${ctx.config.publicUrl}/connected?${new URLSearchParams({ identifier })}`;

  // One connection.
  app.get("/connections/:identifier", async (c) => {
    const session = signedIn(c);
    if (session instanceof Response) return session;
    const identifier = pathIdentifier(c);
    if (!identifier) return notFound(c, session, null);
    const connection = await ctx.store.getConnection(identifier);
    if (!connection) return noConnection(c, session, identifier);
    const status = c.req.query("status");
    const error = c.req.query("error");
    const flash: Notice | null =
      c.req.query("disconnected") !== undefined
        ? {
            kind: "ok",
            message: `Disconnected ${identifier}.`,
            hint: "Its tokens are erased and your app's calls for it now get 409. The event history stays; Reconnect makes a link to connect it again.",
          }
        : status === "connected"
          ? {
              kind: "ok",
              message: "Connected. Airtable approved the authorization and Airlock stored the tokens.",
            }
          : status === "error"
            ? {
                kind: "error",
                message: `The connection attempt failed: ${describeOAuthError(error)}.`,
                hint: "Create a new link and try again.",
              }
            : null;
    return render(c, await detailView(session, connection.identifier, flash, null));
  });

  const detailView = async (
    session: DashboardSession,
    identifier: string,
    notice: Notice | null,
    tryIt: TryItView | null,
  ): Promise<Html> => {
    const [connection, events] = await Promise.all([
      ctx.store.getConnection(identifier),
      ctx.store.listEvents(identifier, { limit: EVENT_LIMIT }),
    ]);
    if (!connection) throw new AirlockError("not_found", `There is no connection "${identifier}".`);
    // Only the summary reaches the template: tokens never come near the HTML.
    const { accessToken: _a, refreshToken: _r, ...summary } = connection;
    return connectionPage(chrome(identifier, session), {
      csrf: sessions().csrfToken(session),
      connection: summary,
      events,
      notice,
      tryIt,
    });
  };

  // The reconnect link page is shown once; its URL leads back to the connection.
  app.get("/connections/:identifier/reconnect", (c) => {
    const identifier = pathIdentifier(c);
    return c.redirect(identifier ? `/connections/${encodeURIComponent(identifier)}` : "/", 303);
  });

  app.post("/connections/:identifier/reconnect", async (c) => {
    const checked = await checkedForm(c, "user");
    if (checked instanceof Response) return checked;
    const identifier = pathIdentifier(c);
    const connection = identifier ? await ctx.store.getConnection(identifier) : null;
    if (!identifier || !connection) return notFound(c, checked.session, identifier);
    const created = await createConnectSession(ctx, {
      identifier,
      scopes: connection.scopes.filter((s) => ctx.config.airtable.scopes.includes(s)),
      returnUrl: returnUrlFor(identifier),
    });
    return render(
      c,
      connectLinkPage(chrome("Reconnect link", checked.session), {
        identifier,
        url: created.url,
        expiresAt: new Date(created.expires_at),
        reconnect: true,
      }),
    );
  });

  app.get("/connections/:identifier/disconnect", async (c) => {
    const session = signedIn(c);
    if (session instanceof Response) return session;
    const identifier = pathIdentifier(c);
    const connection = identifier ? await ctx.store.getConnection(identifier) : null;
    if (!identifier || !connection) return notFound(c, session, identifier);
    if (connection.status === "revoked")
      return c.redirect(`/connections/${encodeURIComponent(identifier)}`, 303);
    return render(
      c,
      disconnectPage(chrome(`Disconnect ${identifier}`, session), {
        csrf: sessions().csrfToken(session),
        identifier,
      }),
    );
  });

  app.post("/connections/:identifier/disconnect", async (c) => {
    const checked = await checkedForm(c, "user");
    if (checked instanceof Response) return checked;
    const identifier = pathIdentifier(c);
    const outcome = identifier ? await disconnect(ctx, identifier, "dashboard") : "not_found";
    if (!identifier || outcome === "not_found") return notFound(c, checked.session, identifier);
    ctx.logger.info(
      { identifier, outcome, event: "dashboard.disconnect" },
      "connection disconnected from the dashboard",
    );
    return c.redirect(`/connections/${encodeURIComponent(identifier)}?disconnected`, 303);
  });

  // "Try it": bases and tables through the proxy. A read, so a GET: its URL can be reopened.
  app.get("/connections/:identifier/try", async (c) => {
    const session = signedIn(c);
    if (session instanceof Response) return session;
    const identifier = pathIdentifier(c);
    if (!identifier || !(await ctx.store.getConnection(identifier))) return notFound(c, session, identifier);
    const target: ProxyTarget = {
      api,
      baseUrl: ctx.config.publicUrl,
      secretKey: ctx.config.secretKey ?? "",
      identifier,
    };
    let tryIt: TryItView;
    if (c.req.query("action") === "tables") {
      const baseId = c.req.query("base_id") ?? "";
      if (!BASE_ID_PATTERN.test(baseId)) {
        return render(
          c,
          await detailView(
            session,
            identifier,
            {
              kind: "error",
              message: "That is not an Airtable base id.",
              hint: "Base ids look like appXXXXXXXXXXXXXX.",
            },
            null,
          ),
          400,
        );
      }
      const [bases, tables] = await Promise.all([listBases(target), listTables(target, baseId)]);
      const baseName = bases.ok ? (bases.value.find((b) => b.id === baseId)?.name ?? null) : null;
      tryIt = tables.ok
        ? { ...(bases.ok ? { bases: bases.value } : {}), tables: { baseId, baseName, tables: tables.value } }
        : { ...(bases.ok ? { bases: bases.value } : {}), problem: tables.problem };
    } else {
      const bases = await listBases(target);
      tryIt = bases.ok ? { bases: bases.value } : { problem: bases.problem };
    }
    return render(c, await detailView(session, identifier, null, tryIt));
  });

  // Pages rendered before Try it became a GET post their forms here.
  app.post("/connections/:identifier/try", async (c) => {
    const checked = await checkedForm(c, "user");
    if (checked instanceof Response) return checked;
    const identifier = pathIdentifier(c);
    if (!identifier) return notFound(c, checked.session, null);
    const { form } = checked;
    const query = new URLSearchParams(
      form.action === "tables" && typeof form.base_id === "string"
        ? { action: "tables", base_id: form.base_id }
        : { action: "bases" },
    );
    return c.redirect(`/connections/${encodeURIComponent(identifier)}/try?${query}#try-it`, 303);
  });

  // Where dashboard-made connect links return: the admin goes back to the connection, an end user
  // who got the link sees a plain "connected" page (and nothing of the dashboard).
  app.get("/connected", (c) => landing(c));

  // Mounted last in the app, so this runs only for GETs no route answered: browsers get an HTML
  // page (with the pages' headers), API clients the app's JSON 404.
  app.get("*", (c, next) => {
    if (!wantsHtml(c)) return next();
    return headers(c, async () => {
      const session = sessions().read(getCookie(c, sessions().cookieName), ctx.now());
      c.res = await fail(c, session?.kind === "user" ? session : null, 404, {
        kind: "error",
        message: `There is no page at ${c.req.path}.`,
        hint: "Check the address, or start from the list of connections.",
      });
    });
  });

  return app;
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

function describeOAuthError(error: string | undefined): string {
  if (error === "access_denied") return "access was declined on the consent page (access_denied)";
  if (error && /^[a-z_]{1,64}$/.test(error)) return error.replaceAll("_", " ");
  return "an unknown error";
}

/**
 * The end user's side of a connection: `GET /connect/:token` (consume the link, bind the browser,
 * redirect to Airtable with PKCE + state) and `GET /oauth/callback` (verify state and browser,
 * exchange the code, record who connected, store the connection, send the browser back). A failed
 * attempt is written to the identifier's history (`connection.connect_failed`). Every page here
 * carries the pages' CSP (see html-document.ts) and malformed input gets a page, never a raw
 * validation dump.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AirtableApi } from "../airtable/api.js";
import { computeCodeChallenge, generateCodeVerifier, generateState, isValidState } from "../airtable/pkce.js";
import { AirlockError } from "../shared/errors.js";
import type { PendingAuthorization } from "../store/types.js";
import { ensureBrowserBinding, readBrowserBinding } from "./browser-binding.js";
import { CALLBACK_PATH } from "./config.js";
import type { ServiceContext } from "./context.js";
import { assertExpectedAccount } from "./expected-email.js";
import { pageHeaders, wantsHtml } from "./html-document.js";
import { forEndUser, toAirlockError } from "./http-errors.js";
import { PAGE_CSS, PAGE_CSS_PATH, PAGE_CSS_VERSION, resultPage } from "./pages.js";
import type { AppEnv } from "./request-log.js";
import { hashSecret, safeEqual } from "./secrets.js";
import { checkReturnUrl } from "./validation.js";
import { validationHook } from "./validation-hook.js";

/** How long the user has between opening the link and coming back from Airtable. */
export const PENDING_AUTHORIZATION_TTL_MS = 10 * 60 * 1000;

/** The event a failed connect attempt writes to the identifier's history. */
export const CONNECT_FAILED_EVENT = "connection.connect_failed";

const html = { "text/html": { schema: z.string() } };

const connectRoute = createRoute({
  method: "get",
  path: "/connect/{token}",
  tags: ["connect"],
  summary: "Open a connect link (end user's browser)",
  description:
    "Consumes the single-use connect session, binds the flow to this browser with an HttpOnly SameSite=Lax cookie, stores a pending authorization (PKCE verifier encrypted, 10-minute expiry) and redirects to Airtable's consent page.",
  // Any length is accepted here: a token that cannot be one gets the dead-link page, not a 400.
  request: {
    params: z.object({
      token: z.string().openapi({ description: "The connect session's token (43 characters)." }),
    }),
  },
  responses: {
    302: { description: "Redirect to Airtable's authorize URL (PKCE S256 + state)" },
    410: { description: "The link is unknown, expired or already used", content: html },
  },
});

const callbackRoute = createRoute({
  method: "get",
  path: "/oauth/callback",
  tags: ["connect"],
  summary: "Airtable's redirect back (end user's browser)",
  description:
    "Accepts only a state that exists, is unexpired, unused and matches this browser's binding cookie; exchanges the code; creates or reconnects the connection; redirects to return_url with status=connected (or status=error&error=…) or shows a page.",
  request: {
    query: z.object({
      state: z.string().optional(),
      code: z.string().optional(),
      error: z.string().optional(),
      error_description: z.string().optional(),
    }),
  },
  responses: {
    302: { description: "Back to return_url with status=connected&identifier=… or status=error&error=…" },
    200: { description: "Connected (no return_url)", content: html },
    400: { description: "Unknown, expired, reused or foreign state; or Airtable refused", content: html },
  },
});

function page(
  c: Context,
  ctx: ServiceContext,
  status: 200 | 400 | 410,
  input: Parameters<typeof resultPage>[0],
) {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  return c.html(resultPage({ ...input, demoEmulatorUrl: ctx.demo?.emulatorUrl ?? null }), status);
}

/** Back to the app's return URL with the outcome in its query (set in `outcome`'s order), sending no Referer. */
function redirectBack(c: Context, returnUrl: URL, outcome: Record<string, string>) {
  for (const [name, value] of Object.entries(outcome)) returnUrl.searchParams.set(name, value);
  c.header("Referrer-Policy", "no-referrer");
  return c.redirect(returnUrl.href, 302);
}

/** Records a failed attempt in the identifier's history; history is best effort (the store may be down). */
async function recordFailure(
  ctx: ServiceContext,
  c: Context<AppEnv>,
  identifier: string,
  error: AirlockError,
): Promise<void> {
  const oauthError = typeof error.details?.error === "string" ? error.details.error : error.code;
  await ctx.store
    .appendEvent(identifier, {
      type: CONNECT_FAILED_EVENT,
      data: { error: oauthError, message: error.message },
    })
    .catch((cause: unknown) => {
      c.var.log.warn(
        { identifier, error: toAirlockError(cause).code },
        "could not record the failed attempt",
      );
    });
}

/** Connect links work once: the way back is always a new link (or the browser that started). */
const NEW_LINK_HINT = "Ask the app that sent you here for a new link (each link works once).";

function invalidState(message: string, hint: string = NEW_LINK_HINT): AirlockError {
  return new AirlockError("invalid_state", message, { hint });
}

/** The return URL, checked again now (configuration may have changed since the session was created). */
function safeReturnUrl(ctx: ServiceContext, c: Context<AppEnv>, returnUrl: string | null): URL | null {
  if (returnUrl === null) return null;
  try {
    return new URL(checkReturnUrl(returnUrl, ctx.config));
  } catch {
    c.var.log.warn({ event: "return_url_rejected" }, "return_url no longer allowed; showing a page instead");
    return null;
  }
}

/**
 * Who connected. The code is already spent and the tokens are good, so a failing whoami must not
 * lose the connection: it is stored without a user id and the failure is logged.
 */
async function identify(
  ctx: ServiceContext,
  c: Context<AppEnv>,
  accessToken: string,
): Promise<{ id: string | null; email: string | null }> {
  const api = new AirtableApi({ accessToken, apiUrl: ctx.config.airtable.apiUrl, maxRateLimitWaitMs: 5_000 });
  try {
    const me = await api.whoami();
    return { id: me.id, email: me.email ?? null };
  } catch (error) {
    c.var.log.warn(
      { error: toAirlockError(error).code },
      "whoami failed after the code exchange; storing without user id",
    );
    return { id: null, email: null };
  }
}

async function completeAuthorization(
  ctx: ServiceContext,
  c: Context<AppEnv>,
  pending: PendingAuthorization,
  state: string,
): Promise<{ created: boolean }> {
  const { code } = ctx.oauth.parseCallback(new URL(c.req.url).searchParams, state);
  const tokens = await ctx.oauth.exchangeCode({ code, codeVerifier: pending.codeVerifier });
  const who = await identify(ctx, c, tokens.accessToken);
  // Another account's consent connects nothing: its tokens are dropped here, never stored.
  assertExpectedAccount(pending.expectedEmail, who.email);
  const previous = await ctx.store.getConnection(pending.identifier);
  const { created } = await ctx.store.upsertConnection(
    {
      identifier: pending.identifier,
      scopes: tokens.scopes,
      airtableUserId: who.id,
      email: who.email,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      metadata: pending.metadata,
    },
    ctx.now(),
    (isNew) => ({
      // "recovered" only brings back a dead connection; reconnecting a healthy one is a reconnect.
      type: isNew
        ? "connection.created"
        : previous !== null && previous.status !== "active"
          ? "connection.recovered"
          : "connection.reconnected",
      data: {
        airtable_user_id: who.id,
        scopes: tokens.scopes,
        ...(previous ? { previous_status: previous.status } : {}),
      },
    }),
  );
  // Other processes notice the new version on their next read; this one drops its cache now.
  ctx.tokens.invalidate(pending.identifier);
  return { created };
}

/**
 * The browser routes of the connect flow.
 */
export function connectFlowRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    // Malformed input (a parameter given twice…): browsers get a page, others the JSON error body.
    defaultHook: (result, c) => {
      if (result.success || !wantsHtml(c)) return validationHook(result);
      return page(c, ctx, 400, {
        ok: false,
        title: "We could not connect your Airtable account",
        message: "This address is not one Airlock made: a part of it is missing, repeated or malformed.",
        hint: "Go back to the app that sent you here and ask for a new link.",
      });
    },
  });
  const headers = pageHeaders({ https: ctx.config.publicUrl.startsWith("https:"), endUser: true });
  app.use("/connect/*", headers);
  app.use(CALLBACK_PATH, headers);
  app.use(PAGE_CSS_PATH, headers);

  app.get(PAGE_CSS_PATH, (c) => {
    c.header(
      "Cache-Control",
      c.req.query("v") === PAGE_CSS_VERSION ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return c.body(PAGE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
  });

  app.openapi(connectRoute, (c) => startConnect(ctx, c, c.req.valid("param").token));
  app.openapi(callbackRoute, (c) => handleCallback(ctx, c, c.req.valid("query").state));

  return app;
}

/**
 * `GET /connect/:token`: consumes the link, binds the browser, stores the pending authorization
 * (PKCE verifier, state) and redirects to Airtable; a dead link gets a page.
 */
async function startConnect(ctx: ServiceContext, c: Context<AppEnv>, token: string) {
  const session = /^[A-Za-z0-9_-]{20,100}$/.test(token)
    ? await ctx.store.consumeConnectSession(hashSecret(token), ctx.now())
    : null;
  if (!session) {
    return page(c, ctx, 410, {
      ok: false,
      title: "This link cannot be used",
      message: "The connect link is unknown, has expired (links last 30 minutes) or was already used.",
      hint: "Go back to the app that sent you here and ask for a new link.",
    });
  }
  const binding = ensureBrowserBinding(c, ctx.config);
  const codeVerifier = generateCodeVerifier();
  const state = generateState();
  await ctx.store.createPendingAuthorization({
    stateHash: hashSecret(state),
    identifier: session.identifier,
    scopes: session.scopes,
    returnUrl: session.returnUrl,
    metadata: session.metadata,
    expectedEmail: session.expectedEmail,
    codeVerifier,
    browserBindingHash: hashSecret(binding),
    expiresAt: new Date(ctx.now().getTime() + PENDING_AUTHORIZATION_TTL_MS),
  });
  const url = ctx.oauth.authorizationUrl({
    state,
    codeChallenge: computeCodeChallenge(codeVerifier),
    scopes: session.scopes,
  });
  c.var.log.info({ identifier: session.identifier }, "connect link opened; redirecting to Airtable");
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  return c.redirect(url.href, 302);
}

/**
 * `GET /oauth/callback`: claims the pending authorization the state names, completes it, and sends
 * the browser back to the app (or shows a page).
 */
async function handleCallback(ctx: ServiceContext, c: Context<AppEnv>, state: string | undefined) {
  if (state === undefined || !isValidState(state))
    return refuse(c, ctx, invalidState("The callback has no valid state."));
  const pending = await claimPendingAuthorization(ctx, c, state);
  if (pending instanceof AirlockError) return refuse(c, ctx, pending);

  const returnUrl = safeReturnUrl(ctx, c, pending.returnUrl);
  let outcome: { created: boolean };
  try {
    outcome = await completeAuthorization(ctx, c, pending, state);
  } catch (caught) {
    return deny(ctx, c, pending, returnUrl, caught);
  }
  c.var.log.info({ identifier: pending.identifier, created: outcome.created }, "connection authorized");
  if (returnUrl) {
    return redirectBack(c, returnUrl, { status: "connected", identifier: pending.identifier });
  }
  return page(c, ctx, 200, {
    ok: true,
    title: "Airtable connected",
    message: `Your Airtable account is connected${outcome.created ? "" : " again"}. You can close this tab.`,
  });
}

/** A callback refused before the code exchange: logged, and a page that says why. */
function refuse(c: Context<AppEnv>, ctx: ServiceContext, refused: AirlockError) {
  const error = forEndUser(refused);
  c.var.log.warn({ error: error.code }, "callback refused");
  return page(c, ctx, 400, {
    ok: false,
    title: "We could not connect your Airtable account",
    message: error.message,
    hint: error.hint,
  });
}

/**
 * The pending authorization `state` names, once it is known, unused, unexpired and from this
 * browser, and now marked used; otherwise why not (an expiry is also written to the history).
 */
async function claimPendingAuthorization(
  ctx: ServiceContext,
  c: Context<AppEnv>,
  state: string,
): Promise<PendingAuthorization | AirlockError> {
  const stateHash = hashSecret(state);
  const pending = await ctx.store.getPendingAuthorization(stateHash);
  if (!pending) return invalidState("This authorization is unknown to Airlock.");
  if (pending.usedAt !== null) return invalidState("This authorization was already completed.");
  if (pending.expiresAt.getTime() <= ctx.now().getTime()) {
    const expired = invalidState(
      "This authorization expired (the consent page was open for more than 10 minutes).",
    );
    await recordFailure(ctx, c, pending.identifier, expired);
    return expired;
  }
  const binding = readBrowserBinding(c, ctx.config);
  // A mismatch leaves the pending authorization untouched: the right browser can still finish.
  if (binding === undefined || !safeEqual(hashSecret(binding), pending.browserBindingHash)) {
    return invalidState(
      "This authorization was started in a different browser.",
      "Finish in the browser where you opened the link, or ask the app for a new link (each link works once).",
    );
  }
  if (!(await ctx.store.markPendingAuthorizationUsed(stateHash, ctx.now()))) {
    return invalidState("This authorization was already completed.");
  }
  return pending;
}

/**
 * The code exchange (or what follows it) failed, or Airtable refused: logged, written to the
 * history, and the browser goes back to the app with the error (or gets a page).
 */
async function deny(
  ctx: ServiceContext,
  c: Context<AppEnv>,
  pending: PendingAuthorization,
  returnUrl: URL | null,
  caught: unknown,
) {
  const error = forEndUser(toAirlockError(caught));
  // Only an unexpected failure carries its cause into the log; AirlockErrors say enough.
  const cause = error.code === "internal" ? { err: caught } : {};
  // A wrong account is logged with the masked emails its error carries (never the full ones).
  const accounts = error.code === "wrong_account" ? { accounts: error.details } : {};
  c.var.log.warn(
    { identifier: pending.identifier, error: error.code, ...accounts, ...cause },
    "authorization failed",
  );
  await recordFailure(ctx, c, pending.identifier, error);
  if (returnUrl) {
    return redirectBack(c, returnUrl, {
      status: "error",
      error: error.code,
      identifier: pending.identifier,
    });
  }
  return page(c, ctx, 400, {
    ok: false,
    title: "We could not connect your Airtable account",
    message: error.message,
    hint: error.hint,
  });
}

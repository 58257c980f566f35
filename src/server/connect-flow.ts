/**
 * The end user's side of a connection: `GET /connect/:token` (a read: the "Continue to Airtable"
 * page, so a link previewer that fetches the link spends nothing), `POST /connect/:token` (consume
 * the link, bind the browser, redirect to Airtable with PKCE + state) and `GET /oauth/callback`
 * (verify state and browser, exchange the code, record who connected, store the connection, send
 * the browser back: a redirect to return_url, or in popup mode a page that posts the outcome to
 * the app's window). A failed attempt is written to the identifier's history
 * (`connection.connect_failed`). Every page here carries the pages' CSP (see html-document.ts) and
 * malformed input gets a page, never a raw validation dump.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AirtableApi } from "../airtable/api.js";
import { computeCodeChallenge, generateCodeVerifier, generateState, isValidState } from "../airtable/pkce.js";
import { AirlockError } from "../shared/errors.js";
import type { PendingAuthorization } from "../store/types.js";
import { ensureBrowserBinding, readBrowserBinding } from "./browser-binding.js";
import { CALLBACK_PATH } from "./config.js";
import { CONNECT_MODULE_PATH, connectModule } from "./connect-module.js";
import {
  CONNECT_MESSAGE_TYPE,
  CONNECT_SCRIPT,
  CONNECT_SCRIPT_PATH,
  CONNECT_SCRIPT_VERSION,
  continuePage,
  popupResultPage,
} from "./connect-page.js";
import { contextFor, type ServiceContext } from "./context.js";
import { assertExpectedAccount } from "./expected-email.js";
import { pageHeaders, wantsHtml } from "./html-document.js";
import { forEndUser, toAirlockError } from "./http-errors.js";
import { PAGE_CSS, PAGE_CSS_PATH, PAGE_CSS_VERSION, resultPage } from "./pages.js";
import { rememberPopup, takePopup } from "./popup-mode.js";
import type { AppEnv } from "./request-log.js";
import { hashSecret, safeEqual } from "./secrets.js";
import { checkReturnUrl } from "./validation.js";
import { validationHook } from "./validation-hook.js";

/** How long the user has between opening the link and coming back from Airtable. */
export const PENDING_AUTHORIZATION_TTL_MS = 10 * 60 * 1000;

/** The event a failed connect attempt writes to the identifier's history. */
export const CONNECT_FAILED_EVENT = "connection.connect_failed";

const html = { "text/html": { schema: z.string() } };

const connectRequest = {
  // Any length is accepted here: a token that cannot be one gets the dead-link page, not a 400.
  params: z.object({
    token: z.string().openapi({ description: "The connect session's token (43 characters)." }),
  }),
  query: z.object({
    mode: z.string().optional().openapi({
      description:
        "`popup` (set by `airlock/connect`): the flow ends in a page that posts the outcome to the opener at the return_url's origin and closes, instead of redirecting. Needs a session with a return_url.",
    }),
  }),
};

const connectPageRoute = createRoute({
  method: "get",
  path: "/connect/{token}",
  tags: ["connect"],
  summary: "Open a connect link (end user's browser)",
  description:
    'Shows the "Continue to Airtable" page if the link is live. A read only: the link is not used, so a link previewer or scanner that fetches it (a plain GET) leaves it working for the user. The page\'s button POSTs to the same path.',
  request: connectRequest,
  responses: {
    200: { description: 'The "Continue to Airtable" page (a form that POSTs to this path)', content: html },
    400: { description: "mode=popup on a session without return_url", content: html },
    410: { description: "The link is unknown, expired or already used", content: html },
  },
});

const connectRoute = createRoute({
  method: "post",
  path: "/connect/{token}",
  tags: ["connect"],
  summary: "Use a connect link (the Continue button)",
  description:
    "Consumes the single-use connect session, binds the flow to this browser with an HttpOnly SameSite=Lax cookie, stores a pending authorization (PKCE verifier encrypted, 10-minute expiry) and redirects to Airtable's consent page. A POST another site made a browser send (Sec-Fetch-Site other than same-origin) is refused and uses nothing.",
  request: connectRequest,
  responses: {
    302: { description: "Redirect to Airtable's authorize URL (PKCE S256 + state)" },
    403: { description: "Sent by another site's page: the link was not used", content: html },
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
  status: 200 | 400 | 403 | 410,
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

type Outcome =
  | { status: "connected"; identifier: string }
  | { status: "error"; error: string; identifier: string };

/**
 * The outcome goes back to the app: a redirect to return_url, or, for a flow started in popup mode
 * in this browser, a page that posts it to the opener at return_url's origin (the only origin the
 * app's backend vouched for with its secret key) and closes.
 */
function sendBack(ctx: ServiceContext, c: Context<AppEnv>, state: string, returnUrl: URL, outcome: Outcome) {
  if (!takePopup(c, ctx.config, state)) return redirectBack(c, returnUrl, outcome);
  const targetOrigin = returnUrl.origin;
  for (const [name, value] of Object.entries(outcome)) returnUrl.searchParams.set(name, value);
  const connected = outcome.status === "connected";
  c.header("Cache-Control", "no-store");
  return c.html(
    popupResultPage({
      message: { type: CONNECT_MESSAGE_TYPE, ...outcome },
      targetOrigin,
      returnUrl: returnUrl.href,
      title: connected ? "Airtable connected" : "We could not connect your Airtable account",
      text: connected
        ? "Your Airtable account is connected."
        : `Airtable connection failed (${outcome.error}).`,
      demoEmulatorUrl: ctx.demo?.emulatorUrl ?? null,
    }),
    connected ? 200 : 400,
  );
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
  const headers = pageHeaders({
    https: ctx.config.publicUrl.startsWith("https:"),
    endUser: true,
    // The Continue form's POST is answered with a redirect to Airtable's consent page.
    formTargets: [new URL(ctx.config.airtable.oauthUrl).origin],
  });
  app.use("/connect/*", headers);
  app.use(CALLBACK_PATH, headers);
  app.use(PAGE_CSS_PATH, headers);
  app.use(CONNECT_SCRIPT_PATH, headers);

  app.get(PAGE_CSS_PATH, (c) => {
    c.header(
      "Cache-Control",
      c.req.query("v") === PAGE_CSS_VERSION ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return c.body(PAGE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
  });
  app.get(CONNECT_SCRIPT_PATH, (c) => {
    c.header(
      "Cache-Control",
      c.req.query("v") === CONNECT_SCRIPT_VERSION ? "public, max-age=31536000, immutable" : "no-cache",
    );
    return c.body(CONNECT_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });
  // The app's side: the airlock/connect module itself, for pages without a bundler.
  app.get(CONNECT_MODULE_PATH, connectModule);

  app.openapi(connectPageRoute, (c) =>
    showContinuePage(ctx, c, c.req.valid("param").token, c.req.valid("query").mode === "popup"),
  );
  app.openapi(connectRoute, (c) =>
    startConnect(ctx, c, c.req.valid("param").token, c.req.valid("query").mode === "popup"),
  );
  app.openapi(callbackRoute, (c) => handleCallback(ctx, c, c.req.valid("query").state));

  return app;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{20,100}$/;

function deadLink(c: Context, ctx: ServiceContext) {
  return page(c, ctx, 410, {
    ok: false,
    title: "This link cannot be used",
    message: "The connect link is unknown, has expired (links last 30 minutes) or was already used.",
    hint: "Go back to the app that sent you here and ask for a new link.",
  });
}

/**
 * `GET /connect/:token`: the "Continue to Airtable" page for a live link. Nothing is written, so a
 * link previewer (chat apps, mail scanners) that fetches the link cannot spend it.
 */
async function showContinuePage(ctx: ServiceContext, c: Context<AppEnv>, token: string, popup: boolean) {
  const session = TOKEN_RE.test(token)
    ? await ctx.store.findLiveConnectSession(hashSecret(token), ctx.now())
    : null;
  if (!session) return deadLink(c, ctx);
  if (popup && session.returnUrl === null) {
    return page(c, ctx, 400, {
      ok: false,
      title: "This link cannot open in a popup",
      message:
        "In popup mode the outcome goes to the app's page at its return_url's origin, and this connect session has none.",
      hint: "The app must create the connect session with a return_url (its page's origin), or open the link without popup mode.",
    });
  }
  c.header("Cache-Control", "no-store");
  c.header("X-Robots-Tag", "noindex");
  const action = `/connect/${token}${popup ? "?mode=popup" : ""}`;
  return c.html(continuePage({ action, demoEmulatorUrl: ctx.demo?.emulatorUrl ?? null }), 200);
}

/**
 * True when a browser says another site's page made this POST. Only the Continue page (same
 * origin) has a reason to post here. Does a cross-site POST matter? It can only spend a link whose
 * token the other site already has, and sends the victim's browser to Airtable's consent page for
 * that link's identifier; a plain link already allowed that before this page existed, and the user
 * still has to grant access on Airtable (expected_email narrows who can). But it would spend the
 * link without the user pressing Continue, and bind it to a fresh cookie (the Lax binding cookie is
 * not sent on a cross-site POST, so a new one replaces it and the browser's other flows in
 * progress fail). So it is refused and the link stays live. `Origin` cannot tell: our pages send no
 * referrer, so the browser sends `Origin: null` on our own form. `Sec-Fetch-Site` can (every
 * current browser sends it); a request without it (curl, an old browser) is no cross-site forgery.
 */
function crossSitePost(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  return site !== undefined && site !== "same-origin" && site !== "none";
}

/**
 * `POST /connect/:token` (the Continue button): a forged cross-site POST is refused, a dead link gets
 * a page, a live one goes to {@link beginAuthorization}.
 */
async function startConnect(ctx: ServiceContext, c: Context<AppEnv>, token: string, popup: boolean) {
  if (crossSitePost(c)) {
    c.var.log.warn({ event: "cross_site_connect_post" }, "connect link POST from another site refused");
    return page(c, ctx, 403, {
      ok: false,
      title: "Press Continue on the link's own page",
      message:
        "Another site's page tried to use this connect link, so Airlock did not use it. The link still works.",
      hint: "Open the connect link itself and press Continue to Airtable.",
    });
  }
  return beginAuthorization(ctx, c, token, popup);
}

/**
 * Consumes the link, binds the browser, stores the pending authorization (PKCE verifier, state),
 * remembers popup mode, and redirects to Airtable; a dead link gets a page.
 */
async function beginAuthorization(ctx: ServiceContext, c: Context<AppEnv>, token: string, popup: boolean) {
  const session = TOKEN_RE.test(token)
    ? await ctx.store.consumeConnectSession(hashSecret(token), ctx.now())
    : null;
  // A link of an integration no longer configured is as dead as an expired one.
  const integration = session ? await ctx.integrations.resolve(session.integration) : undefined;
  if (!session || !integration) return deadLink(c, ctx);
  const flow = contextFor(ctx, integration);
  const binding = ensureBrowserBinding(c, ctx.config);
  const codeVerifier = generateCodeVerifier();
  const state = generateState();
  await flow.store.createPendingAuthorization({
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
  // Without a return_url there is no origin to post to: the flow ends on Airlock's own page.
  if (popup && session.returnUrl !== null) {
    rememberPopup(c, ctx.config, state, PENDING_AUTHORIZATION_TTL_MS / 1000);
  }
  const url = flow.oauth.authorizationUrl({
    state,
    codeChallenge: computeCodeChallenge(codeVerifier),
    scopes: session.scopes,
  });
  c.var.log.info(
    { integration: integration.id, identifier: session.identifier, popup },
    "connect link used; redirecting to Airtable",
  );
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
  const integration = await ctx.integrations.resolve(pending.integration);
  if (!integration) {
    return refuse(c, ctx, invalidState("This link's Airtable integration is no longer configured here."));
  }
  const flow = contextFor(ctx, integration);

  const returnUrl = safeReturnUrl(ctx, c, pending.returnUrl);
  let outcome: { created: boolean };
  try {
    outcome = await completeAuthorization(flow, c, pending, state);
  } catch (caught) {
    return deny(flow, c, { pending, state, returnUrl }, caught);
  }
  c.var.log.info(
    { integration: integration.id, identifier: pending.identifier, created: outcome.created },
    "connection authorized",
  );
  if (returnUrl) {
    return sendBack(ctx, c, state, returnUrl, { status: "connected", identifier: pending.identifier });
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
    const integration = await ctx.integrations.resolve(pending.integration);
    await recordFailure(integration ? contextFor(ctx, integration) : ctx, c, pending.identifier, expired);
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
  flow: { pending: PendingAuthorization; state: string; returnUrl: URL | null },
  caught: unknown,
) {
  const { pending, returnUrl } = flow;
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
    return sendBack(ctx, c, flow.state, returnUrl, {
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

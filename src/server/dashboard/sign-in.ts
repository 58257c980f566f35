/**
 * Signing in with the secret key, and signing out (everywhere: see session.ts).
 */
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { authThrottle } from "../auth-throttle.js";
import { safeEqual } from "../secrets.js";
import { type DashboardContext, type PageResponse, render } from "./dashboard-context.js";
import { checkedForm, type FormEnv } from "./guards.js";
import { endSession, ensureSession, signOutEverywhere, startSession } from "./session.js";
import { type Notice, signInPage } from "./views.js";

/**
 * Mounts `GET /login`, `POST /login` and `POST /logout`.
 */
export function signInRoutes(app: Hono, d: DashboardContext): void {
  app.get("/login", (c) => showSignIn(d, c));
  app.post("/login", checkedForm(d, "any"), (c) => signIn(d, c));
  app.post("/logout", checkedForm(d, "any"), (c) => signOut(d, c));
}

function showSignIn(d: DashboardContext, c: Context): PageResponse {
  const session = ensureSession(c, d.sessions(), d.ctx.now());
  if (session.kind === "user") return c.redirect("/", 303);
  return render(
    c,
    signInPage(d.chrome("Sign in", null), { csrf: d.sessions().csrfToken(session), error: null }),
  );
}

async function signIn(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const { ctx } = d;
  // Wrong keys are throttled per address, shared with /v1 (auth-throttle.ts); blocked: right key or not.
  const throttle = authThrottle(ctx);
  const blockedFor = throttle.blockedFor(c);
  if (blockedFor > 0) {
    c.header("Retry-After", String(blockedFor));
    return signInAgain(d, c, 429, {
      kind: "error",
      message: "Too many failed sign-ins from your address.",
      hint: `Wait ${blockedFor} seconds, then sign in with the AIRLOCK_SECRET_KEY value the service was started with.`,
    });
  }
  const presented = c.var.form.secret_key;
  const secretKey = ctx.config.secretKey ?? "";
  if (typeof presented !== "string" || presented.length === 0 || !safeEqual(presented.trim(), secretKey)) {
    const refusedFor = throttle.fail(c);
    ctx.logger.warn(
      { event: "dashboard.sign_in_failed", ...(refusedFor > 0 ? { retry_after_seconds: refusedFor } : {}) },
      "dashboard sign-in with a wrong secret key",
    );
    return signInAgain(d, c, 401, {
      kind: "error",
      message: "That secret key is not right.",
      hint: "Use the AIRLOCK_SECRET_KEY value the service was started with (printed at startup in demo mode).",
    });
  }
  // A new session on sign-in: a session planted before it (fixation) is worthless afterwards.
  startSession(c, d.sessions(), "user", ctx.now());
  ctx.logger.info({ event: "dashboard.sign_in" }, "dashboard sign-in");
  return c.redirect("/", 303);
}

/** The sign-in form again, under a fresh anonymous session: each attempt needs a new form. */
function signInAgain(
  d: DashboardContext,
  c: Context,
  status: ContentfulStatusCode,
  error: Notice,
): PageResponse {
  const session = startSession(c, d.sessions(), "anon", d.ctx.now());
  return render(
    c,
    signInPage(d.chrome("Sign in", null), { csrf: d.sessions().csrfToken(session), error }),
    status,
  );
}

async function signOut(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  // Only a signed-in session may end the others (an anonymous form must not sign the admins out).
  if (c.var.session.kind === "user") await signOutEverywhere(c, d.sessions(), d.ctx.store);
  else endSession(c, d.sessions());
  return c.redirect("/login", 303);
}

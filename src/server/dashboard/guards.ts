/**
 * The dashboard's session and CSRF checks as route middleware: a page behind them reads the checked
 * session (and form) from `c.var`, typed by the env each guard declares.
 */
import type { Env, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { type DashboardContext, fail, readSession } from "./dashboard-context.js";
import { CSRF_FIELD, type DashboardSession } from "./session.js";

/** A POSTed form as Hono parses it (`parseBody({ all: true })`). */
export type Form = Record<string, string | File | (string | File)[]>;

/** A page behind {@link signedIn}: `c.var.session` is a signed-in session. */
export interface SignedInEnv extends Env {
  Variables: { session: DashboardSession };
}

/** A POST behind {@link checkedForm}: the session its CSRF token matched, and the parsed form. */
export interface FormEnv extends Env {
  Variables: { session: DashboardSession; form: Form };
}

/**
 * Lets signed-in sessions through; anyone else is sent to the sign-in page.
 */
export function signedIn(d: DashboardContext): MiddlewareHandler<SignedInEnv> {
  return createMiddleware<SignedInEnv>(async (c, next) => {
    const session = readSession(d, c);
    if (session?.kind !== "user") return c.redirect("/login", 303);
    c.set("session", session);
    await next();
  });
}

/**
 * Lets a POST through when its form's CSRF token matches the request's session (a 403 page when it
 * does not); with `kind: "user"` the session must be signed in too (else a redirect to sign in).
 */
export function checkedForm(d: DashboardContext, kind: "user" | "any"): MiddlewareHandler<FormEnv> {
  return createMiddleware<FormEnv>(async (c, next) => {
    const session = readSession(d, c);
    const form = await c.req.parseBody({ all: true }).catch(() => ({}) as Form);
    if (!session || !d.sessions().checkCsrf(session, form[CSRF_FIELD])) {
      return fail(d, c, null, 403, {
        kind: "error",
        message: "This form has expired or did not come from the dashboard (CSRF check failed).",
        hint: "Go back, reload the page and submit the form again.",
      });
    }
    if (kind === "user" && session.kind !== "user") return c.redirect("/login", 303);
    c.set("session", session);
    c.set("form", form);
    await next();
  });
}

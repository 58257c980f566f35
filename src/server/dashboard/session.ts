/**
 * Dashboard sessions and CSRF tokens, without server-side state: the session cookie is
 * `nonce.expiry.kind` signed with an HMAC key derived from the secret key, and each form carries a
 * CSRF token derived from the session's nonce (a synchronizer token that any instance can check).
 * Changing `AIRLOCK_SECRET_KEY` signs everybody out.
 *
 * Every visitor gets a session: an anonymous one (`anon`) protects the sign-in form itself against
 * login CSRF; signing in replaces it with a fresh `user` session (no session fixation).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { randomToken } from "../secrets.js";

export type SessionKind = "anon" | "user";

export interface DashboardSession {
  kind: SessionKind;
  /** Random per session; the CSRF token is derived from it. */
  nonce: string;
  expiresAt: Date;
}

/** Signed-in sessions last a working day; anonymous ones only need to outlive a sign-in form. */
export const SESSION_TTL_MS: Record<SessionKind, number> = { user: 12 * 3600_000, anon: 3600_000 };

/** The name of the form field that carries the CSRF token. */
export const CSRF_FIELD = "_csrf";

export interface SessionCodec {
  /** The cookie name: `__Host-` prefixed on https so no subdomain can plant or read it. */
  readonly cookieName: string;
  readonly secure: boolean;
  issue(kind: SessionKind, now: Date): { session: DashboardSession; cookie: string };
  /** The session in a cookie value, or null when forged, malformed or expired. */
  read(cookie: string | undefined, now: Date): DashboardSession | null;
  csrfToken(session: DashboardSession): string;
  checkCsrf(session: DashboardSession, presented: unknown): boolean;
}

/**
 * Builds the session codec for one secret key.
 *
 * @example
 * const sessions = sessionCodec({ secretKey: config.secretKey, secure: config.publicUrl.startsWith("https:") });
 * const { session, cookie } = sessions.issue("user", new Date());
 * sessions.checkCsrf(session, sessions.csrfToken(session)); // true
 */
export function sessionCodec(options: { secretKey: string; secure: boolean }): SessionCodec {
  // Derived, not the secret key itself: a leaked cookie signature says nothing about the API key.
  const key = createHmac("sha256", options.secretKey).update("airlock dashboard session v1").digest();
  const mac = (purpose: string, value: string) =>
    createHmac("sha256", key).update(`${purpose}\n${value}`).digest("base64url");
  const sameMac = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };

  return {
    cookieName: options.secure ? "__Host-airlock_session" : "airlock_session",
    secure: options.secure,
    issue(kind, now) {
      const session: DashboardSession = {
        kind,
        nonce: randomToken(24),
        expiresAt: new Date(now.getTime() + SESSION_TTL_MS[kind]),
      };
      const payload = `${session.nonce}.${session.expiresAt.getTime()}.${kind}`;
      return { session, cookie: `${payload}.${mac("session", payload)}` };
    },
    read(cookie, now) {
      if (!cookie || cookie.length > 256) return null;
      const parts = cookie.split(".");
      if (parts.length !== 4) return null;
      const [nonce, expiry, kind, signature] = parts as [string, string, string, string];
      if (!sameMac(signature, mac("session", `${nonce}.${expiry}.${kind}`))) return null;
      if (kind !== "anon" && kind !== "user") return null;
      const expiresAt = new Date(Number(expiry));
      if (!/^\d+$/.test(expiry) || expiresAt.getTime() <= now.getTime()) return null;
      return { kind, nonce, expiresAt };
    },
    csrfToken(session) {
      return mac("csrf", `${session.kind}.${session.nonce}`);
    },
    checkCsrf(session, presented) {
      return (
        typeof presented === "string" && sameMac(presented, mac("csrf", `${session.kind}.${session.nonce}`))
      );
    },
  };
}

/**
 * Reads the request's session, or issues an anonymous one (and sets its cookie) when there is none.
 *
 * @example
 * const session = ensureSession(c, sessions, ctx.now());
 * if (session.kind !== "user") return c.redirect("/login");
 */
export function ensureSession(c: Context, codec: SessionCodec, now: Date): DashboardSession {
  const existing = codec.read(getCookie(c, codec.cookieName), now);
  if (existing) return existing;
  return startSession(c, codec, "anon", now);
}

/**
 * Issues a new session of `kind` and sets its cookie (HttpOnly, SameSite=Lax, Secure on https).
 *
 * @example
 * startSession(c, sessions, "user", ctx.now()); // after a correct secret key
 */
export function startSession(
  c: Context,
  codec: SessionCodec,
  kind: SessionKind,
  now: Date,
): DashboardSession {
  const { session, cookie } = codec.issue(kind, now);
  setCookie(c, codec.cookieName, cookie, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: codec.secure,
    maxAge: Math.floor(SESSION_TTL_MS[kind] / 1000),
  });
  return session;
}

/**
 * Removes the session cookie (sign out).
 *
 * @example
 * endSession(c, sessions);
 */
export function endSession(c: Context, codec: SessionCodec): void {
  deleteCookie(c, codec.cookieName, { path: "/", secure: codec.secure });
}

/**
 * Dashboard sessions and CSRF tokens: the session cookie is `nonce.expiry.kind.epoch` signed with an
 * HMAC key derived from the secret key, and each form carries a CSRF token derived from the
 * session's nonce (a synchronizer token that any instance can check). The only server-side state is
 * one number in the store, the session epoch: every dashboard request reads it first
 * ({@link sessionEpochCheck}), a signed-in session issued under an older epoch is refused, and
 * signing out moves it on, so a cookie copied before a sign-out is worthless afterwards on every
 * instance and after restarts. Signing out therefore signs out every browser (they all share the
 * one secret key). Changing `AIRLOCK_SECRET_KEY` signs everybody out too.
 *
 * Every visitor gets a session: an anonymous one (`anon`) protects the sign-in form itself against
 * login CSRF; signing in replaces it with a fresh `user` session (no session fixation).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Store } from "../../store/types.js";
import { randomToken } from "../secrets.js";

export type SessionKind = "anon" | "user";

export interface DashboardSession {
  kind: SessionKind;
  /** Random per session; the CSRF token is derived from it. */
  nonce: string;
  expiresAt: Date;
  /** The session epoch it was issued under. */
  epoch: number;
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
  /**
   * The session in a cookie value, or null when forged, malformed, expired, or signed in under an
   * older epoch than the newest one observed.
   */
  read(cookie: string | undefined, now: Date): DashboardSession | null;
  /** Notes the store's session epoch; epochs only grow, so an older value changes nothing. */
  observeEpoch(epoch: number): void;
  csrfToken(session: DashboardSession): string;
  checkCsrf(session: DashboardSession, presented: unknown): boolean;
}

/**
 * Builds the session codec for one secret key.
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

  // The newest session epoch this instance has seen (every dashboard request reads the store's first).
  let currentEpoch = 0;

  return {
    cookieName: options.secure ? "__Host-airlock_session" : "airlock_session",
    secure: options.secure,
    issue(kind, now) {
      const session: DashboardSession = {
        kind,
        nonce: randomToken(24),
        expiresAt: new Date(now.getTime() + SESSION_TTL_MS[kind]),
        epoch: currentEpoch,
      };
      const payload = `${session.nonce}.${session.expiresAt.getTime()}.${kind}.${session.epoch}`;
      return { session, cookie: `${payload}.${mac("session", payload)}` };
    },
    read(cookie, now) {
      if (!cookie || cookie.length > 256) return null;
      const parts = cookie.split(".");
      if (parts.length !== 5) return null;
      const [nonce, expiry, kind, epoch, signature] = parts as [string, string, string, string, string];
      if (!sameMac(signature, mac("session", `${nonce}.${expiry}.${kind}.${epoch}`))) return null;
      if (kind !== "anon" && kind !== "user") return null;
      const expiresAt = new Date(Number(expiry));
      if (!/^\d+$/.test(expiry) || expiresAt.getTime() <= now.getTime()) return null;
      if (!/^\d{1,15}$/.test(epoch)) return null;
      // A sign-out ends signed-in sessions; an anonymous one only guards the sign-in form and stays.
      if (kind === "user" && Number(epoch) < currentEpoch) return null;
      return { kind, nonce, expiresAt, epoch: Number(epoch) };
    },
    observeEpoch(epoch) {
      if (epoch > currentEpoch) currentEpoch = epoch;
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
 */
export function ensureSession(c: Context, codec: SessionCodec, now: Date): DashboardSession {
  const existing = codec.read(getCookie(c, codec.cookieName), now);
  if (existing) return existing;
  return startSession(c, codec, "anon", now);
}

/**
 * Issues a new session of `kind` and sets its cookie (HttpOnly, SameSite=Lax, Secure on https).
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
 */
export function endSession(c: Context, codec: SessionCodec): void {
  deleteCookie(c, codec.cookieName, { path: "/", secure: codec.secure });
}

/**
 * Middleware for every dashboard page: reads the store's session epoch before the page reads its
 * session, so a sign-out on any instance is seen at once (one small query per dashboard request).
 */
export function sessionEpochCheck(
  store: Pick<Store, "getSessionEpoch">,
  codec: () => SessionCodec,
): MiddlewareHandler {
  return async (_c, next) => {
    codec().observeEpoch(await store.getSessionEpoch());
    await next();
  };
}

/**
 * Signs every dashboard session out (this browser's cookie is removed too): moves the store's
 * session epoch on, so cookies issued before are refused by every instance from now on.
 */
export async function signOutEverywhere(
  c: Context,
  codec: SessionCodec,
  store: Pick<Store, "bumpSessionEpoch">,
): Promise<void> {
  codec.observeEpoch(await store.bumpSessionEpoch());
  endSession(c, codec);
}

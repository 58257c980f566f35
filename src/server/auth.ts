/**
 * Bearer authentication for `/v1/*`: the presented key is compared with AIRLOCK_SECRET_KEY in
 * constant time (both hashed first), so timing reveals neither content nor length; any other key
 * is looked up by its SHA-256 among the named API keys (one unique-index lookup, read from the
 * store on every request, so a revoked key is refused at once on every instance), and its scope
 * must allow the route (api-key-scopes.ts), else 403 `access_denied`. Unknown keys are
 * throttled per client address and globally (auth-throttle.ts): a blocked address gets 429
 * `rate_limited` with Retry-After before its key is even looked at.
 */
import { hash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AirlockError } from "../shared/errors.js";
import type { ApiKeyRecord, Store } from "../store/types.js";
import { hashApiKey, scopesFor } from "./api-key-scopes.js";
import { AuthThrottle } from "./auth-throttle.js";
import type { AppEnv } from "./request-log.js";
import { requestHeader } from "./request-log.js";

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BEARER_FORM = "`Authorization: Bearer <AIRLOCK_SECRET_KEY>`";

function sha256(value: string): Buffer {
  // One-shot: no Hash object per request (strings are hashed as UTF-8, as update() did).
  return hash("sha256", value, "buffer") as unknown as Buffer;
}

function unauthorized(c: Context, message: string, hint: string): AirlockError {
  c.header("WWW-Authenticate", 'Bearer realm="airlock"');
  return new AirlockError("unauthorized", message, { hint });
}

/**
 * The 429 for an address that failed too often.
 */
export function tooManyFailures(retryAfterSeconds: number): AirlockError {
  return new AirlockError(
    "rate_limited",
    "Too many failed authentication attempts from this address; it is refused for now, right key or not.",
    {
      hint: `Wait ${retryAfterSeconds} s (Retry-After), then send ${BEARER_FORM} with the key the service was started with.`,
      details: { retry_after_seconds: retryAfterSeconds },
    },
  );
}

/** Where the named API keys are (absent: only AIRLOCK_SECRET_KEY is accepted). */
export interface ApiKeyLookup {
  store: Pick<Store, "findActiveApiKey" | "touchApiKey">;
  now(): Date;
}

/** The last-used time is written at most once a minute per key per instance. */
const TOUCH_EVERY_MS = 60_000;

function missingOrMalformed(c: Context, header: string): AirlockError {
  return header
    ? unauthorized(
        c,
        "The Authorization header is not a Bearer token.",
        `Use ${BEARER_FORM} (the key printed when \`airlock serve\` started).`,
      )
    : unauthorized(
        c,
        "This endpoint needs the secret key.",
        `Send ${BEARER_FORM} (the key printed when \`airlock serve\` started).`,
      );
}

function wrongKey(c: Context, throttle: AuthThrottle): AirlockError {
  // Only a presented key is a guess; a missing or malformed header cannot be right by chance.
  const refusedFor = throttle.fail(c);
  if (refusedFor > 0) {
    c.var.log?.warn(
      { event: "auth.throttled", address: throttle.addressOf(c), retry_after_seconds: refusedFor },
      "too many wrong secret keys from one address: refused for now",
    );
  }
  return unauthorized(
    c,
    "The secret key is wrong.",
    `Send ${BEARER_FORM} with the AIRLOCK_SECRET_KEY the service was started with (printed at startup in demo mode), or an API key that is not revoked.`,
  );
}

function outOfScope(c: Context, key: ApiKeyRecord, allowed: readonly string[]): AirlockError {
  const needed = allowed.filter((scope) => scope !== "admin");
  const scopes = [...needed.map((scope) => `\`${scope}\``), "`admin`"].join(" or ");
  return new AirlockError(
    "access_denied",
    `The API key ${key.id} ("${key.name}") has scope \`${key.scope}\`; ${c.req.method} ${c.req.path} needs ${scopes}.`,
    {
      hint: `Call this with a key of scope ${scopes} (\`airlock keys create --name N --scope ${needed[0] ?? "admin"}\`), or with AIRLOCK_SECRET_KEY.`,
      details: { key_scope: key.scope, required_scopes: allowed },
    },
  );
}

/** Writes a key's last-used time when this instance has not in the last minute; never fails the request. */
function touchLater(c: Context, lookup: ApiKeyLookup, touched: Map<string, number>, id: string): void {
  const now = lookup.now();
  const last = touched.get(id);
  if (last !== undefined && now.getTime() - last < TOUCH_EVERY_MS) return;
  touched.set(id, now.getTime());
  lookup.store.touchApiKey(id, now).catch((error: unknown) => {
    touched.delete(id);
    c.var.log?.warn(
      { event: "api_key.touch_failed", err: error, key_id: id },
      "could not record an API key's use",
    );
  });
}

/**
 * Middleware that rejects requests without `Authorization: Bearer <secret key or API key>` (401
 * `unauthorized`), a named key whose scope does not allow the route (403 `access_denied`), and
 * answers 429 `rate_limited` to an address `throttle` has blocked.
 *
 * @example
 * app.use("/v1/*", requireSecretKey(secretKey, authThrottle(ctx), { store: ctx.store, now: ctx.now }));
 */
export function requireSecretKey(
  secretKey: string,
  throttle: AuthThrottle = new AuthThrottle(),
  apiKeys?: ApiKeyLookup,
): MiddlewareHandler<AppEnv> {
  // Hashed once: each request hashes only the presented key (same constant-time comparison).
  const expected = sha256(secretKey);
  const touched = new Map<string, number>();
  return async (c, next) => {
    const blockedFor = throttle.blockedFor(c);
    if (blockedFor > 0) throw tooManyFailures(blockedFor);
    const header = requestHeader(c, "authorization") ?? "";
    const presented = BEARER_RE.exec(header)?.[1];
    if (!presented) throw missingOrMalformed(c, header);
    if (!timingSafeEqual(sha256(presented), expected)) {
      const key = apiKeys ? await apiKeys.store.findActiveApiKey(hashApiKey(presented)) : null;
      if (!key) throw wrongKey(c, throttle);
      const allowed = scopesFor(c.req.method, c.req.path);
      if (!allowed.includes(key.scope)) throw outOfScope(c, key, allowed);
      if (apiKeys) touchLater(c, apiKeys, touched, key.id);
    }
    await next();
  };
}

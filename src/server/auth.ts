/**
 * Bearer authentication for `/v1/*`: the presented key is compared with AIRLOCK_SECRET_KEY in
 * constant time (both hashed first), so timing reveals neither content nor length. Wrong keys are
 * throttled per client address and globally (auth-throttle.ts): a blocked address gets 429
 * `rate_limited` with Retry-After before its key is even looked at.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AirlockError } from "../shared/errors.js";
import { AuthThrottle } from "./auth-throttle.js";
import type { AppEnv } from "./request-log.js";
import { requestHeader } from "./request-log.js";

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BEARER_FORM = "`Authorization: Bearer <AIRLOCK_SECRET_KEY>`";

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
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

/**
 * Middleware that rejects requests without `Authorization: Bearer <secret key>` (401
 * `unauthorized`), and answers 429 `rate_limited` to an address `throttle` has blocked.
 */
export function requireSecretKey(
  secretKey: string,
  throttle: AuthThrottle = new AuthThrottle(),
): MiddlewareHandler<AppEnv> {
  // Hashed once: each request hashes only the presented key (same constant-time comparison).
  const expected = sha256(secretKey);
  return async (c, next) => {
    const blockedFor = throttle.blockedFor(c);
    if (blockedFor > 0) throw tooManyFailures(blockedFor);
    const header = requestHeader(c, "authorization") ?? "";
    const match = BEARER_RE.exec(header);
    if (!match?.[1]) {
      throw header
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
    if (!timingSafeEqual(sha256(match[1]), expected)) {
      // Only a presented key is a guess; a missing or malformed header cannot be right by chance.
      const refusedFor = throttle.fail(c);
      if (refusedFor > 0) {
        c.var.log?.warn(
          { event: "auth.throttled", address: throttle.addressOf(c), retry_after_seconds: refusedFor },
          "too many wrong secret keys from one address: refused for now",
        );
      }
      throw unauthorized(
        c,
        "The secret key is wrong.",
        `Send ${BEARER_FORM} with the AIRLOCK_SECRET_KEY the service was started with (printed at startup in demo mode).`,
      );
    }
    await next();
  };
}

/**
 * Bearer authentication for `/v1/*`: the presented key is compared with AIRLOCK_SECRET_KEY in
 * constant time (both hashed first), so timing reveals neither content nor length.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AirlockError } from "../errors.js";
import { requestHeader } from "./request-log.js";

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Middleware that rejects requests without `Authorization: Bearer <secret key>` (401 `unauthorized`).
 *
 * @example
 * app.use("/v1/*", requireSecretKey(config.secretKey));
 */
export function requireSecretKey(secretKey: string): MiddlewareHandler {
  // Hashed once: each request hashes only the presented key (same constant-time comparison).
  const expected = sha256(secretKey);
  return async (c, next) => {
    const header = requestHeader(c, "authorization") ?? "";
    const match = BEARER_RE.exec(header);
    if (!match?.[1] || !timingSafeEqual(sha256(match[1]), expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="airlock"');
      throw new AirlockError(
        "unauthorized",
        header ? "The secret key is wrong." : "This endpoint needs the secret key.",
        {
          hint: "Send `Authorization: Bearer $AIRLOCK_SECRET_KEY` (the key printed when `airlock serve` started).",
        },
      );
    }
    await next();
  };
}

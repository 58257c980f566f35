/**
 * Bearer authentication for `/v1/*`: the presented key is compared with AIRLOCK_SECRET_KEY in
 * constant time (both hashed first), so timing reveals neither content nor length.
 */
import type { MiddlewareHandler } from "hono";
import { AirlockError } from "../errors.js";
import { safeEqual } from "./secrets.js";

/**
 * Middleware that rejects requests without `Authorization: Bearer <secret key>` (401 `unauthorized`).
 *
 * @example
 * app.use("/v1/*", requireSecretKey(config.secretKey));
 */
export function requireSecretKey(secretKey: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match?.[1] || !safeEqual(match[1], secretKey)) {
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

/**
 * Request ids and one structured log line per request. Paths are logged without secrets: connect
 * tokens in `/connect/<token>` and the `code`/`state` (and token-like) query parameters are redacted.
 */
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log.js";

/** Hono variables the service sets on every request. */
export interface AppEnv {
  Variables: { requestId: string; log: Logger };
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const SECRET_QUERY_KEYS = new Set([
  "code",
  "state",
  "token",
  "access_token",
  "refresh_token",
  "code_verifier",
  "client_secret",
  "api_key",
  "key",
]);

/**
 * The request's path and query as safe to log.
 *
 * @example
 * logSafePath("http://h/oauth/callback?code=abc&state=xyz"); // "/oauth/callback?code=[redacted]&state=[redacted]"
 * logSafePath("http://h/connect/Xq3abc"); // "/connect/[redacted]"
 */
export function logSafePath(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/^\/connect\/[^/]+/, "/connect/[redacted]");
  if (parsed.search === "") return path;
  const parts: string[] = [];
  for (const [key, value] of parsed.searchParams) {
    const safe = SECRET_QUERY_KEYS.has(key.toLowerCase()) ? "[redacted]" : value;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(safe)}`);
  }
  return `${path}?${parts.join("&")}`;
}

/**
 * Middleware: echoes a well-formed `x-request-id` (or generates one), exposes a child logger as
 * `c.var.log`, and logs method, safe path, status and duration when the response is ready.
 *
 * @example
 * app.use("*", requestLog(logger));
 */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    await next();
    c.res.headers.set("x-request-id", requestId);
    const status = c.res.status;
    const entry = {
      method: c.req.method,
      path: logSafePath(c.req.url),
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) log.error(entry, "request failed");
    else log.info(entry, "request");
  };
}

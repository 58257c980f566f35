/**
 * Request ids and one structured log line per request. Paths are logged without secrets: connect
 * tokens in `/connect/<token>` and the `code`/`state` (and token-like) query parameters are redacted,
 * which is what keeps OAuth authorization codes out of the logs (log.ts no longer blanks `code`
 * fields, so that error codes show).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../shared/log.js";

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
/** Any other parameter named like a credential (`auth_code`, `id_token`, `clientSecret`, ...). */
const SECRET_QUERY_KEY_RE = /(code|token|secret|password|verifier|key)$/;

function isSecretQueryKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SECRET_QUERY_KEYS.has(lower) || SECRET_QUERY_KEY_RE.test(lower);
}

/**
 * The Node request behind a Hono context, when served by `@hono/node-server` (absent in
 * `app.request()` tests). Reading headers from it avoids building a `Headers` object per request.
 */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * A request header as `Headers#get` returns it (every occurrence joined with ", "; undefined when
 * absent), read from the raw header list when the node adapter is in use.
 */
export function requestHeader(c: Context, lowerName: string): string | undefined {
  const raw = incomingOf(c)?.rawHeaders;
  if (!raw) return c.req.header(lowerName);
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`;
    }
  }
  return value;
}

/**
 * A child logger created on first use: most requests never log through it (the per-request line
 * is below the configured level), and `logger.child` costs microseconds that a proxy cannot spare.
 */
function lazyChild(logger: Logger, bindings: Record<string, string>): Logger {
  let child: Logger | undefined;
  const real = () => {
    child ??= logger.child(bindings);
    return child;
  };
  return new Proxy({} as Logger, {
    get(_target, property) {
      const target = real();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, property, value) {
      return Reflect.set(real(), property, value);
    },
  });
}

/**
 * The request's path and query as safe to log.
 */
export function logSafePath(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/^\/connect\/[^/]+/, "/connect/[redacted]");
  if (parsed.search === "") return path;
  const parts: string[] = [];
  for (const [key, value] of parsed.searchParams) {
    const safe = isSecretQueryKey(key) ? "[redacted]" : value;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(safe)}`);
  }
  return `${path}?${parts.join("&")}`;
}

/**
 * Middleware: echoes a well-formed `x-request-id` (or generates one), exposes a child logger as
 * `c.var.log`, and logs method, safe path, status and duration when the response is ready.
 */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = requestHeader(c, "x-request-id");
    const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    const log = lazyChild(logger, { requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    await next();
    c.res.headers.set("x-request-id", requestId);
    const status = c.res.status;
    // Skip building the entry (a URL parse, the redaction) when the line would not be written.
    if (!logger.isLevelEnabled(status >= 500 ? "error" : "info")) return;
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

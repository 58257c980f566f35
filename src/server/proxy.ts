/**
 * The proxy: `ANY /v1/proxy/:identifier/v0/…` → Airtable's Web API with the connection's fresh
 * access token. The hot path: one token lookup (TokenManager's cache), no database write, headers
 * read from the raw header list (no `Headers`/`Request` objects built), one keep-alive `Pool` for the
 * API origin, small responses buffered (one write back), large or unsized ones streamed. Path checks
 * run before anything else, so hostile paths never reach upstream.
 */
import { Readable } from "node:stream";
import type { Context, Hono } from "hono";
import type { Dispatcher } from "undici";
import { Pool, errors as undiciErrors } from "undici";
import { AirlockError, errorCode } from "../shared/errors.js";
import { TIMED_OUT, within } from "../shared/timers.js";
import type { GetAccessTokenOptions } from "../tokens/token-manager.js";
import type { ServiceContext } from "./context.js";
import { statusForCode, toAirlockError } from "./http-errors.js";
import { checkProxyPath, decodeUntilStable, refuseProxyPath, upstreamBase } from "./proxy-path.js";
import { withReconnectHint } from "./reconnect-hint.js";
import { type AppEnv, incomingOf } from "./request-log.js";
import { IDENTIFIER_PATTERN } from "./validation.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
/** Plus the caller's credentials and the headers that would steer or impersonate the request. */
const REQUEST_HEADERS_DROPPED = new Set([
  ...HOP_BY_HOP,
  "authorization",
  "cookie",
  "host",
  "expect",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-original-url",
  "x-rewrite-url",
  "x-original-host",
  "x-host",
  "x-real-ip",
  "x-http-method-override",
  "x-request-id",
]);
/** Plus cookies: Airtable's cookies are not the caller's business. */
const RESPONSE_HEADERS_DROPPED = new Set([...HOP_BY_HOP, "set-cookie", "set-cookie2"]);

/** Bodies up to this size are buffered so a 401 can be retried with the same body. */
const RETRY_BUFFER_BYTES = 1024 * 1024;
/** Upstream bodies with a Content-Length up to this are read whole and sent back in one write. */
const BUFFER_RESPONSE_BYTES = 1024 * 1024;
const PREFIX = "/v1/proxy/";
/** Methods RFC 9110 §9.2.2 calls idempotent: safe to send again after a connection failure. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/**
 * Failures that mean "the connection died before any response": typically a keep-alive socket the
 * upstream closed while we reused it. undici puts the code on the error or on its cause.
 */
const RETRYABLE_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNRESET", "EPIPE"]);

interface ProxyOptions {
  maxBody: number;
  timeoutMs: number;
}

type RequestBody =
  | { kind: "none" }
  | { kind: "buffered"; data: Buffer }
  | { kind: "stream"; stream: Readable; tooLarge: () => boolean };

function tooLarge(max: number): AirlockError {
  return new AirlockError("payload_too_large", `The request body is larger than ${max} bytes.`, {
    hint: "Send a smaller body (Airtable accepts at most 10 records per write), or raise AIRLOCK_PROXY_MAX_BODY.",
  });
}

/** Reads up to RETRY_BUFFER_BYTES; past that, streams the rest while counting against the limit. */
async function readBody(req: Request, max: number): Promise<RequestBody> {
  // Method first: touching `req.body` makes the node adapter build a full Request object.
  if (req.method === "GET" || req.method === "HEAD" || req.body === null) return { kind: "none" };
  const reader = req.body.getReader();
  const head: Uint8Array[] = [];
  let total = 0;
  const bufferLimit = Math.min(RETRY_BUFFER_BYTES, max);
  while (total <= bufferLimit) {
    const { done, value } = await reader.read();
    if (done) return total === 0 ? { kind: "none" } : { kind: "buffered", data: Buffer.concat(head) };
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    head.push(value);
  }
  let exceeded = false;
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > max) {
        exceeded = true;
        await reader.cancel();
        throw tooLarge(max);
      }
      yield value;
    }
  }
  return { kind: "stream", stream: Readable.from(rest()), tooLarge: () => exceeded };
}

/** Lower-cased names listed in a Connection header value (they are hop-by-hop too). */
function connectionListed(value: string | undefined): Set<string> | null {
  if (!value) return null;
  return new Set(
    value
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The headers to send upstream, as a plain object: names lower-cased, repeated headers joined with
 * ", " (what `Headers` would do), hop-by-hop and caller-identity headers dropped, our token added.
 */
function forwardHeaders(c: Context<AppEnv>, accessToken: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Dropped names are skipped while copying (no `delete`, which slows the object down); only
  // names a Connection header lists are removed afterwards, and only when there is one.
  let connection: string | undefined;
  const keep = (name: string, value: string) => {
    if (name === "connection") connection = connection === undefined ? value : `${connection}, ${value}`;
    else if (!REQUEST_HEADERS_DROPPED.has(name)) out[name] = name in out ? `${out[name]}, ${value}` : value;
  };
  const raw = incomingOf(c)?.rawHeaders;
  if (raw) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name.charCodeAt(0) === 58 /* ":" HTTP/2 pseudo-header */) continue;
      keep(name, raw[i + 1] as string);
    }
  } else {
    c.req.raw.headers.forEach((value, name) => {
      keep(name, value);
    });
  }
  const listed = connectionListed(connection);
  if (listed) for (const name of listed) delete out[name];
  out.authorization = `Bearer ${accessToken}`;
  return out;
}

/** The upstream's response headers minus hop-by-hop ones and cookies, as a plain object. */
function responseHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const listed = connectionListed(typeof raw.connection === "string" ? raw.connection : undefined);
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    const lower = name.toLowerCase();
    if (value === undefined || RESPONSE_HEADERS_DROPPED.has(lower) || listed?.has(lower)) continue;
    headers[lower] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** The error code of an undici failure (on the error itself, or on its cause for socket errors). */
function failureCode(error: unknown): string | undefined {
  const own = errorCode(error);
  const cause = error instanceof Error ? errorCode(error.cause) : undefined;
  if (cause !== undefined && RETRYABLE_CODES.has(cause)) return cause;
  return own ?? cause;
}

/** Path and query of the normalised request URL, cut from the href string (no `new URL` per request). */
function pathAndSearch(href: string): { pathname: string; search: string } {
  const hash = href.indexOf("#");
  if (hash !== -1) {
    const url = new URL(href);
    return { pathname: url.pathname, search: url.search };
  }
  const start = href.indexOf("/", href.indexOf("://") + 3);
  if (start === -1) return { pathname: "/", search: "" };
  const query = href.indexOf("?", start);
  if (query === -1) return { pathname: href.slice(start), search: "" };
  // `?` alone is an empty query, as URL#search reports it.
  const search = query === href.length - 1 ? "" : href.slice(query);
  return { pathname: href.slice(start, query), search };
}

/** Splits `/v1/proxy/<identifier>/<rest>` (still encoded) and checks both parts. */
function parseTarget(c: Context<AppEnv>): { identifier: string; path: string; search: string } {
  // URL parsing already resolved `..` in c.req.url; refuse the attempt itself, not just its result.
  const url = pathAndSearch(c.req.url);
  const target = incomingOf(c)?.url ?? url.pathname;
  const query = target.indexOf("?");
  const raw = query === -1 ? target : target.slice(0, query);
  const rawSegments = decodeUntilStable(raw).replaceAll("\\", "/").split("/");
  if (rawSegments.some((s) => s === "." || s === "..")) throw refuseProxyPath("it contains . or .. segments");
  const afterPrefix = url.pathname.slice(PREFIX.length);
  const slash = afterPrefix.indexOf("/");
  const encodedIdentifier = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash);
  const identifier = decodeUntilStable(encodedIdentifier);
  if (!IDENTIFIER_PATTERN.test(identifier)) {
    throw new AirlockError("invalid_input", "The identifier in the proxy path is not valid.", {
      hint: "Use /v1/proxy/<identifier>/v0/…, where identifier is 1–255 of letters, digits and . _ : @ + -.",
    });
  }
  const path = checkProxyPath(slash === -1 ? "" : afterPrefix.slice(slash));
  return { identifier, path, search: url.search };
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError
  );
}

function timeoutError(timeoutMs: number): AirlockError {
  return new AirlockError("timeout", `Airtable did not answer within ${timeoutMs} ms.`, {
    hint: "Retry later; raise AIRLOCK_PROXY_TIMEOUT_MS if large requests legitimately take longer.",
  });
}

function unreachable(error: unknown): AirlockError {
  return new AirlockError("transient", "Could not reach Airtable's Web API.", {
    hint: "Retry later; check that AIRTABLE_API_URL is reachable from the service.",
    cause: error,
  });
}

/** Reads an upstream body whose declared length is small enough to hold (one write back later). */
async function readWhole(body: Dispatcher.ResponseData["body"], timeoutMs: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await body.arrayBuffer());
  } catch (error) {
    throw isTimeout(error) ? timeoutError(timeoutMs) : unreachable(error);
  }
}

/** Where proxied requests go: the options, the API's origin and path prefix, and the Pool for it. */
interface Upstream {
  opts: ProxyOptions;
  base: ReturnType<typeof upstreamBase>;
  pool: Pool;
}

function openUpstream(ctx: ServiceContext, options: Partial<ProxyOptions> | undefined): Upstream {
  const opts: ProxyOptions = {
    maxBody: options?.maxBody ?? ctx.config.proxyMaxBody,
    timeoutMs: options?.timeoutMs ?? ctx.config.proxyTimeoutMs,
  };
  // Computed once: the origin every request goes to and the API's own path prefix (if any).
  const base = upstreamBase(ctx.config.airtable.apiUrl);
  // One origin, so one Pool (no per-request origin lookup as in an Agent). No pipelining: a
  // pipelined request behind a slow one would wait, and a reset would take several with it.
  const pool = new Pool(base.origin, {
    connect: { timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 30_000,
    connections: 256,
    pipelining: 1,
  });
  return { opts, base, pool };
}

/**
 * Mounts the proxy on `app` and returns the function that closes its connection pool: upstream
 * requests still running get `graceMs` to finish, then are cut (the shutdown deadline has passed).
 */
export function mountProxy(
  app: Hono<AppEnv>,
  ctx: ServiceContext,
  options?: Partial<ProxyOptions>,
): (graceMs?: number) => Promise<void> {
  const upstream = openUpstream(ctx, options);
  // The labelled child per status, looked up once (prom-client hashes the labels on every inc).
  const counters = new Map<number, { inc(): void }>();
  const counterFor = (status: number) => {
    let counter = counters.get(status);
    if (!counter) {
      counter = ctx.metrics.proxyRequests.labels({ status: String(status) });
      counters.set(status, counter);
    }
    return counter;
  };

  app.all(`${PREFIX}:identifier/*`, async (c) => {
    const started = performance.now();
    let status = 500;
    try {
      const response = await forward(ctx, upstream, c);
      status = response.status;
      return response;
    } catch (error) {
      status = statusForCode(toAirlockError(error).code);
      throw error;
    } finally {
      counterFor(status).inc();
      ctx.metrics.proxyLatency.observe((performance.now() - started) / 1000);
    }
  });

  return async (graceMs = 0) => {
    if ((await within(upstream.pool.close(), graceMs)) === TIMED_OUT) await upstream.pool.destroy();
  };
}

/** One proxied request: checks, token, upstream call (401 → one forced refresh and a retry), answer. */
async function forward(ctx: ServiceContext, upstream: Upstream, c: Context<AppEnv>): Promise<Response> {
  const { opts } = upstream;
  const { identifier, path, search } = parseTarget(c);
  const method = c.req.method;
  const incoming = incomingOf(c);
  const declared = incoming ? incoming.headers["content-length"] : c.req.header("content-length");
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > opts.maxBody) {
    throw tooLarge(opts.maxBody);
  }
  const request: UpstreamRequest = {
    method,
    path: upstream.base.path(path, search),
    body: await readBody(c.req.raw, opts.maxBody),
  };
  const token = await accessTokenFor(ctx, identifier);

  let response = await send(upstream, c, request, token.accessToken);
  // An expired or rotated-away token looks like 401: refresh once (fenced on the token we used).
  if (response.statusCode === 401 && request.body.kind !== "stream") {
    await response.body.dump();
    const fresh = await accessTokenFor(ctx, identifier, {
      force: true,
      rejectedAccessToken: token.accessToken,
    });
    response = await send(upstream, c, request, fresh.accessToken);
  }
  return answer(upstream, method, response);
}

/** The connection's access token; a connection that needs the user says how to reconnect. */
async function accessTokenFor(
  ctx: ServiceContext,
  identifier: string,
  options?: GetAccessTokenOptions,
): Promise<{ accessToken: string }> {
  try {
    return await ctx.tokens.getAccessToken(identifier, options);
  } catch (error) {
    throw withReconnectHint(error, identifier);
  }
}

interface UpstreamRequest {
  method: string;
  /** Path and query on the upstream origin. */
  path: string;
  body: RequestBody;
}

/** Sends the request upstream; a replayable one is sent once more after a dead keep-alive socket. */
async function send(
  upstream: Upstream,
  c: Context<AppEnv>,
  request: UpstreamRequest,
  accessToken: string,
): Promise<Dispatcher.ResponseData> {
  const { method, body } = request;
  const { opts } = upstream;
  // A replayable body on an idempotent method may be sent again after a dead keep-alive socket.
  const retryable = body.kind !== "stream" && IDEMPOTENT.has(method);
  for (let attempt = 1; ; attempt++) {
    try {
      return await upstream.pool.request({
        method: method as Dispatcher.HttpMethod,
        path: request.path,
        headers: forwardHeaders(c, accessToken),
        body: body.kind === "none" ? null : body.kind === "buffered" ? body.data : body.stream,
      });
    } catch (error) {
      if (body.kind === "stream" && body.tooLarge()) throw tooLarge(opts.maxBody);
      if (isTimeout(error)) throw timeoutError(opts.timeoutMs);
      // Only the code and names: undici's messages may carry the upstream URL, never a token.
      const cause = failureCode(error);
      const again = retryable && attempt === 1 && cause !== undefined && RETRYABLE_CODES.has(cause);
      c.var.log?.warn(
        {
          upstreamError: cause ?? (error as Error | null)?.name ?? "unknown",
          method,
          attempt,
          retrying: again,
        },
        again ? "proxy: connection to Airtable failed; retrying once" : "proxy: could not reach Airtable",
      );
      if (!again) throw unreachable(error);
    }
  }
}

/** The upstream's answer as ours: no body where there is none, small sized bodies whole, the rest streamed. */
async function answer(
  upstream: Upstream,
  method: string,
  response: Dispatcher.ResponseData,
): Promise<Response> {
  const headers = responseHeaders(response.headers);
  const status = response.statusCode;
  if (method === "HEAD" || status === 204 || status === 304) {
    await response.body.dump();
    return new Response(null, { status, headers });
  }
  const length = headers["content-length"];
  if (length !== undefined && /^\d+$/.test(length) && Number(length) <= BUFFER_RESPONSE_BYTES) {
    // Small and sized: one buffer, so the adapter writes head and body at once (no stream plumbing).
    return new Response(await readWhole(response.body, upstream.opts.timeoutMs), { status, headers });
  }
  return new Response(Readable.toWeb(response.body) as ReadableStream<Uint8Array>, { status, headers });
}

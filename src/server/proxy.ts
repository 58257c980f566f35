/**
 * The proxy: `ANY /v1/proxy/:identifier/v0/…` → Airtable's Web API with the connection's fresh
 * access token. The hot path: one token lookup (TokenManager's cache), no database write, bodies
 * streamed both ways. Path checks run before anything else, so hostile paths never reach upstream.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { Context, Hono } from "hono";
import { Agent, request, errors as undiciErrors } from "undici";
import { AirlockError } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { statusForCode, toAirlockError } from "./http-errors.js";
import { checkProxyPath, decodeUntilStable, refuseProxyPath, upstreamUrl } from "./proxy-path.js";
import { withReconnectHint } from "./reconnect-hint.js";
import type { AppEnv } from "./request-log.js";
import { IDENTIFIER_PATTERN } from "./validation.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones that would steer or impersonate the caller. */
const REQUEST_HEADERS_DROPPED = new Set([
  "authorization",
  "cookie",
  "host",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
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
const RESPONSE_HEADERS_DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "set-cookie",
  "set-cookie2",
]);

/** Bodies up to this size are buffered so a 401 can be retried with the same body. */
const RETRY_BUFFER_BYTES = 1024 * 1024;
const PREFIX = "/v1/proxy/";

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
  if (req.body === null || req.method === "GET" || req.method === "HEAD") return { kind: "none" };
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

function forwardHeaders(incoming: Headers, accessToken: string): Record<string, string> {
  const connectionListed = new Set(
    (incoming.get("connection") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (!REQUEST_HEADERS_DROPPED.has(name) && !connectionListed.has(name)) out[name] = value;
  });
  out.authorization = `Bearer ${accessToken}`;
  return out;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const listed = new Set(
    String(raw.connection ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase()),
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    if (value === undefined || RESPONSE_HEADERS_DROPPED.has(lower) || listed.has(lower)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(lower, v);
  }
  return headers;
}

/** The raw request target as the client sent it, before URL normalisation resolved any `..`. */
function rawTarget(c: Context<AppEnv>): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.url ?? new URL(c.req.url).pathname;
}

/** Splits `/v1/proxy/<identifier>/<rest>` (still encoded) and checks both parts. */
function parseTarget(c: Context<AppEnv>): { identifier: string; path: string; search: string } {
  // URL parsing already resolved `..` in c.req.url; refuse the attempt itself, not just its result.
  const raw = rawTarget(c).split("?")[0] ?? "";
  const rawSegments = decodeUntilStable(raw).replaceAll("\\", "/").split("/");
  if (rawSegments.some((s) => s === "." || s === "..")) throw refuseProxyPath("it contains . or .. segments");
  const url = new URL(c.req.url);
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

/**
 * Mounts the proxy on `app` and returns the function that closes its connection pool.
 *
 * @example
 * const closeProxy = mountProxy(app, ctx);
 * // later: await closeProxy();
 */
export function mountProxy(
  app: Hono<AppEnv>,
  ctx: ServiceContext,
  options?: Partial<ProxyOptions>,
): () => Promise<void> {
  const opts: ProxyOptions = {
    maxBody: options?.maxBody ?? ctx.config.proxyMaxBody,
    timeoutMs: options?.timeoutMs ?? ctx.config.proxyTimeoutMs,
  };
  const dispatcher = new Agent({
    connect: { timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 30_000,
    connections: 256,
  });

  async function forward(c: Context<AppEnv>): Promise<Response> {
    const { identifier, path, search } = parseTarget(c);
    const declared = c.req.header("content-length");
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > opts.maxBody) {
      throw tooLarge(opts.maxBody);
    }
    const target = upstreamUrl(ctx.config.airtable.apiUrl, path, search);
    const body = await readBody(c.req.raw, opts.maxBody);
    let token: { accessToken: string };
    try {
      token = await ctx.tokens.getAccessToken(identifier);
    } catch (error) {
      throw withReconnectHint(error, identifier);
    }

    const send = async (accessToken: string) => {
      try {
        return await request(target, {
          dispatcher,
          method: c.req.method,
          headers: forwardHeaders(c.req.raw.headers, accessToken),
          body: body.kind === "none" ? null : body.kind === "buffered" ? body.data : body.stream,
        });
      } catch (error) {
        if (body.kind === "stream" && body.tooLarge()) throw tooLarge(opts.maxBody);
        if (isTimeout(error)) {
          throw new AirlockError("timeout", `Airtable did not answer within ${opts.timeoutMs} ms.`, {
            hint: "Retry later; raise AIRLOCK_PROXY_TIMEOUT_MS if large requests legitimately take longer.",
          });
        }
        throw new AirlockError("transient", "Could not reach Airtable's Web API.", {
          hint: "Retry later; check that AIRTABLE_API_URL is reachable from the service.",
          cause: error,
        });
      }
    };

    let upstream = await send(token.accessToken);
    // An expired or rotated-away token looks like 401: refresh once (fenced on the token we used).
    if (upstream.statusCode === 401 && body.kind !== "stream") {
      await upstream.body.dump();
      let fresh: { accessToken: string };
      try {
        fresh = await ctx.tokens.getAccessToken(identifier, {
          force: true,
          rejectedAccessToken: token.accessToken,
        });
      } catch (error) {
        throw withReconnectHint(error, identifier);
      }
      upstream = await send(fresh.accessToken);
    }

    const headers = responseHeaders(upstream.headers);
    const noBody = c.req.method === "HEAD" || upstream.statusCode === 204 || upstream.statusCode === 304;
    if (noBody) await upstream.body.dump();
    const stream = noBody ? null : (Readable.toWeb(upstream.body) as ReadableStream<Uint8Array>);
    return new Response(stream, { status: upstream.statusCode, headers });
  }

  app.all(`${PREFIX}:identifier/*`, async (c) => {
    const started = performance.now();
    let status = 500;
    try {
      const response = await forward(c);
      status = response.status;
      return response;
    } catch (error) {
      status = statusForCode(toAirlockError(error).code);
      throw error;
    } finally {
      ctx.metrics.proxyRequests.inc({ status: String(status) });
      ctx.metrics.proxyLatency.observe((performance.now() - started) / 1000);
    }
  });

  return () => dispatcher.close();
}

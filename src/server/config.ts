/**
 * The service's configuration, read once at startup from the environment. Every problem fails fast
 * with an AirlockError `config_invalid` whose message names the variable and whose hint says the fix.
 */
import { join } from "node:path";
import { checkEndpoint, DEFAULT_API_URL, DEFAULT_OAUTH_URL } from "../airtable/endpoints.js";
import { checkRedirectUri } from "../airtable/redirect-uri.js";
import { DEFAULT_SCOPES, parseScopes } from "../airtable/scopes.js";
import type { AirtableOAuthConfig } from "../airtable/types.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { parseEncryptionKeys } from "../store/crypto.js";
import { airlockDataDir } from "./data-dir.js";
import { type IntegrationConfig, readIntegrationsFile } from "./integrations-config.js";
import { parseWebhookEvents, parseWebhookSecret } from "./webhooks.js";

/** The path of the OAuth redirect URI on the public URL. */
export const CALLBACK_PATH = "/oauth/callback";

/** The client id the in-process demo emulator registers. */
export const DEMO_CLIENT_ID = "airlock-demo";

export interface WebhookConfig {
  url: string;
  secret: string;
  /** Event types that go to the outbox (AIRLOCK_WEBHOOK_EVENTS, or the defaults). */
  events: ReadonlySet<string>;
}

export interface RefreshConfig {
  /** The one timeout of a token request (AIRLOCK_REFRESH_TIMEOUT_SECONDS, default 30). */
  timeoutMs: number;
  /** The refresh lease (AIRLOCK_REFRESH_LEASE_SECONDS, default timeout + 90); outlives any request. */
  leaseMs: number;
  /** How long a caller waits on a refresh (AIRLOCK_TOKEN_WAIT_SECONDS, default 10). */
  tokenWaitMs: number;
  /** Where rotated tokens wait for the store (AIRLOCK_JOURNAL_DIR). */
  journalDir: string;
}

/** The HTTP server's limits against slow and idle clients (see README "Operating"). */
export interface HttpServerConfig {
  /** Complete request headers within this long, or 408 and closed (AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS, 10). */
  headersTimeoutMs: number;
  /** The whole request, body included, within this long (AIRLOCK_HTTP_REQUEST_TIMEOUT_SECONDS, 60). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long (AIRLOCK_HTTP_KEEPALIVE_TIMEOUT_SECONDS, 5). */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed as they arrive (AIRLOCK_HTTP_MAX_CONNECTIONS, 4096). */
  maxConnections: number;
}

export interface ServiceConfig {
  port: number;
  /** Address to bind (AIRLOCK_HOST); undefined listens on every interface (Node's default). */
  host: string | undefined;
  /**
   * How many reverse proxies in front of the service append to X-Forwarded-For (AIRLOCK_TRUST_PROXY,
   * default 0: the header is ignored and the socket's peer is the client address).
   */
  trustProxyHops: number;
  /** Where browsers reach this service, without a trailing slash (e.g. `http://localhost:4000`). */
  publicUrl: string;
  /** `new URL(publicUrl).origin`. */
  publicOrigin: string;
  /** A SQLite file path or a `postgres://…` URL. */
  databaseUrl: string;
  /** The bearer key for `/v1/*` and the dashboard sign-in. Null until demo keys are loaded. */
  secretKey: string | null;
  /** The raw `AIRLOCK_ENCRYPTION_KEYS` value (`kid:base64key,…`). Null until demo keys are loaded. */
  encryptionKeys: string | null;
  /** Origins (besides the public URL's) that `return_url` may point to. */
  allowedReturnOrigins: string[];
  keepAliveDays: number;
  /** How often the keep-alive scheduler looks for due connections, in seconds (default 600). */
  keepAliveIntervalSeconds: number;
  webhook: WebhookConfig | null;
  /**
   * The lease one instance holds while it fetches an Airtable webhook's payloads or refreshes it
   * (AIRLOCK_AIRTABLE_WEBHOOK_LEASE_SECONDS, default 60); a holder that dies is replaced after it.
   */
  airtableWebhookLeaseMs: number;
  /** Largest proxied request body, in bytes. */
  proxyMaxBody: number;
  /** Upstream timeout for proxied requests (until response headers). */
  proxyTimeoutMs: number;
  /** Durability and shutdown: see ARCHITECTURE.md ("Durability"). */
  refresh: RefreshConfig;
  /** How long a SIGTERM/SIGINT shutdown may take before in-flight work is cut (AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS). */
  shutdownTimeoutMs: number;
  /** HTTP server timeouts and connection cap (AIRLOCK_HTTP_*). */
  http: HttpServerConfig;
  /**
   * Events older than this many days are pruned, except undelivered webhook events and each
   * identifier's newest event (AIRLOCK_EVENT_RETENTION_DAYS, default 30).
   */
  eventRetentionDays: number;
  /**
   * True without `AIRTABLE_CLIENT_ID`: the service runs the emulator in-process and `airtable`
   * points at it (its URLs are final once `startService` has started the emulator).
   */
  demo: boolean;
  /** The `default` integration (AIRTABLE_*). */
  airtable: AirtableOAuthConfig;
  /** More integrations (AIRLOCK_INTEGRATIONS_FILE), sharing the callback and Airtable URLs; see integrations-config.ts. */
  integrations: IntegrationConfig[];
}

const DEFAULT_PORT = 4000;
const DEFAULT_PROXY_MAX_BODY = 5 * 1024 * 1024;
const DEFAULT_PROXY_TIMEOUT_MS = 30_000;
const DEFAULT_KEEPALIVE_INTERVAL_SECONDS = 600;

function invalid(message: string, hint: string): AirlockError {
  return new AirlockError("config_invalid", message, { hint });
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function readInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: { min: number; max: number },
  example: string,
): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw invalid(`${name} must be a whole number, not "${raw}".`, `Set ${name}=${example}, or unset it.`);
  }
  const value = Number(raw);
  if (value < range.min || value > range.max) {
    throw invalid(
      `${name} must be between ${range.min} and ${range.max}, not ${raw}.`,
      `Set ${name}=${example}.`,
    );
  }
  return value;
}

function readHttpUrl(name: string, raw: string, fix: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${name} is not an absolute URL: "${raw}".`, fix);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(`${name} must be an http(s) URL, not ${url.protocol}.`, fix);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw invalid(`${name} must not carry credentials, a query or a fragment.`, fix);
  }
  return url;
}

function readOrigins(env: NodeJS.ProcessEnv): string[] {
  const raw = nonEmpty(env, "AIRLOCK_ALLOWED_RETURN_ORIGINS");
  if (raw === undefined) return [];
  return raw
    .split(/[\s,]+/)
    .filter((s) => s.length > 0)
    .map((entry) => {
      const fix =
        "Set AIRLOCK_ALLOWED_RETURN_ORIGINS to comma-separated origins, e.g. https://app.example.com.";
      const url = readHttpUrl("AIRLOCK_ALLOWED_RETURN_ORIGINS", entry, fix);
      if (url.pathname !== "/" || entry.replace(/\/$/, "") !== url.origin) {
        throw invalid(`AIRLOCK_ALLOWED_RETURN_ORIGINS entries are origins only, not "${entry}".`, fix);
      }
      return url.origin;
    });
}

function readWebhook(env: NodeJS.ProcessEnv): WebhookConfig | null {
  const rawUrl = nonEmpty(env, "AIRLOCK_WEBHOOK_URL");
  const secret = nonEmpty(env, "AIRLOCK_WEBHOOK_SECRET");
  if (rawUrl === undefined) {
    if (secret !== undefined || nonEmpty(env, "AIRLOCK_WEBHOOK_EVENTS") !== undefined) {
      throw invalid(
        "AIRLOCK_WEBHOOK_SECRET or AIRLOCK_WEBHOOK_EVENTS is set but AIRLOCK_WEBHOOK_URL is not.",
        "Set AIRLOCK_WEBHOOK_URL to the endpoint that receives events, or unset the other webhook variables.",
      );
    }
    return null;
  }
  const fix = "Set AIRLOCK_WEBHOOK_URL=https://your-app.example.com/hooks/airlock.";
  const url = readHttpUrl("AIRLOCK_WEBHOOK_URL", rawUrl, fix);
  if (secret === undefined) {
    throw invalid(
      "AIRLOCK_WEBHOOK_SECRET must be set when AIRLOCK_WEBHOOK_URL is set (receivers verify signatures with it).",
      `Set AIRLOCK_WEBHOOK_SECRET=whsec_<base64 of 32 random bytes>, e.g. node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))".`,
    );
  }
  parseWebhookSecret(secret);
  return { url: url.href, secret, events: parseWebhookEvents(env.AIRLOCK_WEBHOOK_EVENTS) };
}

/** The demo also writes records: the dashboard's "Try it" creates one through the proxy. */
const DEMO_SCOPES = [...DEFAULT_SCOPES, "data.records:write"];

function readScopes(env: NodeJS.ProcessEnv, demo: boolean): string[] {
  const raw = nonEmpty(env, "AIRTABLE_SCOPES");
  if (raw === undefined) return demo ? [...DEMO_SCOPES] : [...DEFAULT_SCOPES];
  try {
    return parseScopes(raw);
  } catch (error) {
    if (isAirlockError(error)) {
      throw invalid(`AIRTABLE_SCOPES: ${error.message}`, error.hint);
    }
    throw error;
  }
}

function readEndpoint(env: NodeJS.ProcessEnv, name: "AIRTABLE_OAUTH_URL" | "AIRTABLE_API_URL"): string {
  const fallback = name === "AIRTABLE_OAUTH_URL" ? DEFAULT_OAUTH_URL : DEFAULT_API_URL;
  const value = nonEmpty(env, name) ?? fallback;
  const error = checkEndpoint(value, name === "AIRTABLE_OAUTH_URL" ? "oauth" : "api").find(
    (p) => p.level === "error",
  );
  if (error) throw invalid(error.message, error.fix);
  return value.replace(/\/+$/, "");
}

/** The least estimated randomness `AIRLOCK_SECRET_KEY` may have (see {@link estimateKeyBits}). */
export const MIN_SECRET_KEY_BITS = 64;

const GENERATE_SECRET_KEY = "export AIRLOCK_SECRET_KEY=$(openssl rand -hex 32)";

function characterPool(key: string): number {
  return (
    (/[a-z]/.test(key) ? 26 : 0) +
    (/[A-Z]/.test(key) ? 26 : 0) +
    (/[0-9]/.test(key) ? 10 : 0) +
    (/[^a-zA-Z0-9]/.test(key) ? 33 : 0)
  );
}

/** The shortest prefix the key repeats (`"abcabcab"` → 3), by the KMP failure function. */
function repeatPeriod(chars: readonly string[]): number {
  const fail = new Array<number>(chars.length).fill(0);
  for (let i = 1, k = 0; i < chars.length; i++) {
    while (k > 0 && chars[i] !== chars[k]) k = fail[k - 1] ?? 0;
    if (chars[i] === chars[k]) k++;
    fail[i] = k;
  }
  return chars.length - (fail[chars.length - 1] ?? 0);
}

/**
 * A conservative estimate of a key's randomness in bits, for refusing keys a person made up: the
 * repeated block of a repeating key counts once; within it a character repeating the previous one
 * counts nothing, a step of ±1 from the previous one (`abc`, `321`) half and a run of such steps
 * nothing more; that count is capped at twice the number of distinct characters and multiplied by
 * log2 of the character classes used (a–z 26, A–Z 26, 0–9 10, others 33). Random keys of 32 hex
 * or 16 base64 characters and more always clear {@link MIN_SECRET_KEY_BITS}; dictionary words are
 * not recognised.
 */
export function estimateKeyBits(key: string): number {
  const chars = [...key];
  if (chars.length === 0) return 0;
  const block = chars.slice(0, repeatPeriod(chars));
  let counted = 0;
  let previousStep = Number.NaN;
  for (const [i, char] of block.entries()) {
    const step = i === 0 ? Number.NaN : (char.codePointAt(0) ?? 0) - (block[i - 1]?.codePointAt(0) ?? 0);
    if (i === 0 || Math.abs(step) > 1) counted += 1;
    else if (Math.abs(step) === 1 && step !== previousStep) counted += 0.5;
    previousStep = step;
  }
  return Math.min(counted, 2 * new Set(chars).size) * Math.log2(characterPool(key));
}

function checkSecretKey(secretKey: string): void {
  if (secretKey.length < 16) {
    throw invalid(
      "AIRLOCK_SECRET_KEY is too short (at least 16 characters are needed).",
      `Generate one: \`${GENERATE_SECRET_KEY}\`, and keep it.`,
    );
  }
  const bits = estimateKeyBits(secretKey);
  if (bits < MIN_SECRET_KEY_BITS) {
    throw invalid(
      `AIRLOCK_SECRET_KEY is too easy to guess: about ${Math.floor(bits)} bits of randomness, at least ${MIN_SECRET_KEY_BITS} are needed (it repeats characters or blocks, follows a sequence, or uses few distinct characters).`,
      `Generate one: \`${GENERATE_SECRET_KEY}\` (64 random hex characters), and keep it.`,
    );
  }
}

/**
 * Reads and validates the service configuration. Without `AIRTABLE_CLIENT_ID` the result is in demo
 * mode (`demo: true`) and `secretKey`/`encryptionKeys` may be null: `startService` then loads or
 * creates the kept demo keys (see demo.ts). With a client id, both keys are required.
 */
/** Lease margin over the refresh timeout: a request Airtable still processes after we gave up must end inside it. */
const MIN_LEASE_MARGIN_SECONDS = 5;

function readRefresh(env: NodeJS.ProcessEnv, databaseUrl: string): RefreshConfig {
  const timeout = readInteger(env, "AIRLOCK_REFRESH_TIMEOUT_SECONDS", 30, { min: 1, max: 600 }, "30");
  const lease = readInteger(
    env,
    "AIRLOCK_REFRESH_LEASE_SECONDS",
    timeout + 90,
    { min: 2, max: 3600 },
    String(timeout + 90),
  );
  if (lease < timeout + MIN_LEASE_MARGIN_SECONDS) {
    throw invalid(
      `AIRLOCK_REFRESH_LEASE_SECONDS (${lease}) must exceed AIRLOCK_REFRESH_TIMEOUT_SECONDS (${timeout}) by at least ${MIN_LEASE_MARGIN_SECONDS}.`,
      `Set AIRLOCK_REFRESH_LEASE_SECONDS=${timeout + 90}, or leave it unset: a refresh token must never be sent again while an earlier request with it may still be in flight.`,
    );
  }
  return {
    timeoutMs: timeout * 1000,
    leaseMs: lease * 1000,
    tokenWaitMs: readInteger(env, "AIRLOCK_TOKEN_WAIT_SECONDS", 10, { min: 1, max: 600 }, "10") * 1000,
    journalDir: nonEmpty(env, "AIRLOCK_JOURNAL_DIR") ?? join(airlockDataDir(databaseUrl), "journal"),
  };
}

function readHttpServer(env: NodeJS.ProcessEnv): HttpServerConfig {
  const headers = readInteger(env, "AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS", 10, { min: 1, max: 600 }, "10");
  const request = readInteger(env, "AIRLOCK_HTTP_REQUEST_TIMEOUT_SECONDS", 60, { min: 1, max: 3600 }, "60");
  if (headers > request) {
    throw invalid(
      `AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS (${headers}) must not exceed AIRLOCK_HTTP_REQUEST_TIMEOUT_SECONDS (${request}).`,
      "The headers are part of the request: lower the headers timeout or raise the request timeout.",
    );
  }
  return {
    headersTimeoutMs: headers * 1000,
    requestTimeoutMs: request * 1000,
    keepAliveTimeoutMs:
      readInteger(env, "AIRLOCK_HTTP_KEEPALIVE_TIMEOUT_SECONDS", 5, { min: 1, max: 3600 }, "5") * 1000,
    maxConnections: readInteger(
      env,
      "AIRLOCK_HTTP_MAX_CONNECTIONS",
      4096,
      { min: 1, max: 1_000_000 },
      "4096",
    ),
  };
}

/** AIRLOCK_PUBLIC_URL (default `http://localhost:<port>`), without trailing slashes. */
function readPublicUrl(env: NodeJS.ProcessEnv, port: number): { publicUrl: string; publicOrigin: string } {
  const rawPublic = nonEmpty(env, "AIRLOCK_PUBLIC_URL") ?? `http://localhost:${port}`;
  const publicFix =
    "Set AIRLOCK_PUBLIC_URL to the URL browsers use to reach this service, e.g. https://airlock.example.com.";
  const publicUrlObject = readHttpUrl("AIRLOCK_PUBLIC_URL", rawPublic, publicFix);
  return { publicUrl: publicUrlObject.href.replace(/\/+$/, ""), publicOrigin: publicUrlObject.origin };
}

/** AIRTABLE_CLIENT_ID; without one the service runs the demo (and then a client secret is a mistake). */
function readClientId(env: NodeJS.ProcessEnv): { clientId: string | undefined; demo: boolean } {
  const clientId = nonEmpty(env, "AIRTABLE_CLIENT_ID");
  const demo = clientId === undefined;
  if (demo && nonEmpty(env, "AIRTABLE_CLIENT_SECRET") !== undefined) {
    throw invalid(
      "AIRTABLE_CLIENT_SECRET is set but AIRTABLE_CLIENT_ID is not.",
      "Set AIRTABLE_CLIENT_ID to your integration's client id (from https://airtable.com/create/oauth), or unset AIRTABLE_CLIENT_SECRET to run the demo.",
    );
  }
  return { clientId, demo };
}

/** The OAuth redirect URI: the public URL's callback, which AIRTABLE_REDIRECT_URI may only repeat. */
function readRedirectUri(env: NodeJS.ProcessEnv, publicUrl: string): string {
  const callbackUrl = `${publicUrl}${CALLBACK_PATH}`;
  const redirectUri = nonEmpty(env, "AIRTABLE_REDIRECT_URI") ?? callbackUrl;
  if (redirectUri !== callbackUrl) {
    throw invalid(
      `AIRTABLE_REDIRECT_URI is ${redirectUri}, but this service receives the OAuth callback at ${callbackUrl}.`,
      `Set AIRTABLE_REDIRECT_URI=${callbackUrl} (and register exactly that URI with the integration), or unset it; if the public URL is wrong, set AIRLOCK_PUBLIC_URL.`,
    );
  }

  const redirectProblem = checkRedirectUri(redirectUri).find((p) => p.level === "error");
  if (redirectProblem) {
    throw invalid(
      `The OAuth redirect URI ${redirectUri} (from AIRLOCK_PUBLIC_URL) breaks Airtable's rules: ${redirectProblem.message}`,
      `${redirectProblem.fix} Set AIRLOCK_PUBLIC_URL accordingly (http is only accepted for localhost).`,
    );
  }
  return redirectUri;
}

/** AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS: checked when set, required outside the demo. */
function readKeys(
  env: NodeJS.ProcessEnv,
  demo: boolean,
): { secretKey: string | null; encryptionKeys: string | null } {
  const secretKey = nonEmpty(env, "AIRLOCK_SECRET_KEY") ?? null;
  if (secretKey !== null) checkSecretKey(secretKey);
  const encryptionKeys = nonEmpty(env, "AIRLOCK_ENCRYPTION_KEYS") ?? null;
  // Parse now so a malformed value stops startup before anything listens.
  if (encryptionKeys !== null) parseEncryptionKeys(encryptionKeys);
  if (!demo && secretKey === null) {
    throw invalid(
      "AIRLOCK_SECRET_KEY is not set; it protects the /v1 API and the dashboard.",
      "Set AIRLOCK_SECRET_KEY to a long random string, e.g. `export AIRLOCK_SECRET_KEY=$(openssl rand -hex 32)`, and keep it.",
    );
  }
  if (!demo && encryptionKeys === null) {
    throw invalid(
      "AIRLOCK_ENCRYPTION_KEYS is not set; it encrypts the tokens stored in the database.",
      'Set AIRLOCK_ENCRYPTION_KEYS=k1:<32 random bytes, base64>, e.g. `export AIRLOCK_ENCRYPTION_KEYS="k1:$(openssl rand -base64 32)"`, and keep it: losing it loses every connection.',
    );
  }
  return { secretKey, encryptionKeys };
}

/** AIRLOCK_KEEPALIVE_DAYS and AIRLOCK_KEEPALIVE_INTERVAL_SECONDS. */
function readKeepAlive(
  env: NodeJS.ProcessEnv,
): Pick<ServiceConfig, "keepAliveDays" | "keepAliveIntervalSeconds"> {
  return {
    keepAliveDays: readInteger(env, "AIRLOCK_KEEPALIVE_DAYS", 7, { min: 1, max: 59 }, "7"),
    keepAliveIntervalSeconds: readInteger(
      env,
      "AIRLOCK_KEEPALIVE_INTERVAL_SECONDS",
      DEFAULT_KEEPALIVE_INTERVAL_SECONDS,
      { min: 1, max: 86_400 },
      "600",
    ),
  };
}

/** AIRLOCK_PROXY_MAX_BODY and AIRLOCK_PROXY_TIMEOUT_MS. */
function readProxyLimits(env: NodeJS.ProcessEnv): Pick<ServiceConfig, "proxyMaxBody" | "proxyTimeoutMs"> {
  return {
    proxyMaxBody: readInteger(
      env,
      "AIRLOCK_PROXY_MAX_BODY",
      DEFAULT_PROXY_MAX_BODY,
      { min: 1, max: 1 << 30 },
      "5242880",
    ),
    proxyTimeoutMs: readInteger(
      env,
      "AIRLOCK_PROXY_TIMEOUT_MS",
      DEFAULT_PROXY_TIMEOUT_MS,
      { min: 100, max: 600_000 },
      "30000",
    ),
  };
}

/**
 * Reads the whole configuration of `airlock serve` from the environment, in a fixed order, so the
 * first problem found is always the same one.
 */
export function readServiceConfig(env: NodeJS.ProcessEnv): ServiceConfig {
  const port = readInteger(env, "PORT", DEFAULT_PORT, { min: 0, max: 65535 }, "4000");
  const { publicUrl, publicOrigin } = readPublicUrl(env, port);
  const { clientId, demo } = readClientId(env);
  const redirectUri = readRedirectUri(env, publicUrl);
  const { secretKey, encryptionKeys } = readKeys(env, demo);
  const oauthUrl = demo ? `http://127.0.0.1:${port + 1}` : readEndpoint(env, "AIRTABLE_OAUTH_URL");
  const apiUrl = demo ? oauthUrl : readEndpoint(env, "AIRTABLE_API_URL");

  const databaseUrl = nonEmpty(env, "DATABASE_URL") ?? "./airlock.db";
  const airtable: AirtableOAuthConfig = {
    clientId: clientId ?? DEMO_CLIENT_ID,
    clientSecret: demo ? undefined : nonEmpty(env, "AIRTABLE_CLIENT_SECRET"),
    redirectUri,
    scopes: readScopes(env, demo),
    oauthUrl,
    apiUrl,
  };
  return {
    port,
    host: nonEmpty(env, "AIRLOCK_HOST"),
    trustProxyHops: readInteger(env, "AIRLOCK_TRUST_PROXY", 0, { min: 0, max: 10 }, "1"),
    publicUrl,
    publicOrigin,
    databaseUrl,
    secretKey,
    encryptionKeys,
    allowedReturnOrigins: readOrigins(env),
    ...readKeepAlive(env),
    webhook: readWebhook(env),
    airtableWebhookLeaseMs:
      readInteger(env, "AIRLOCK_AIRTABLE_WEBHOOK_LEASE_SECONDS", 60, { min: 5, max: 3600 }, "60") * 1000,
    ...readProxyLimits(env),
    refresh: readRefresh(env, databaseUrl),
    shutdownTimeoutMs:
      readInteger(env, "AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS", 30, { min: 1, max: 3600 }, "30") * 1000,
    http: readHttpServer(env),
    eventRetentionDays: readInteger(env, "AIRLOCK_EVENT_RETENTION_DAYS", 30, { min: 1, max: 36_500 }, "30"),
    demo,
    airtable,
    integrations: readIntegrationsFile(env, airtable),
  };
}

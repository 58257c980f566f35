/**
 * Test harness for the service suites (test/service-*.test.ts and test/security/): a real service
 * on a random port with a real SQLite file (or PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set), a
 * log capture, and a minimal cookie-keeping "browser" that walks the connect flow over real HTTP.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { pino } from "pino";
import type { EmulatorOptions } from "../../src/emulator/index.js";
import { readServiceConfig } from "../../src/server/config.js";
import { type RunningService, type StartServiceOptions, startService } from "../../src/server/service.js";
import { generateKeyringValue } from "../../src/store/crypto.js";
import { continueAction } from "../support/connect-link.js";
import { seedConnection } from "../support/connection-tokens.js";
import {
  announcePostgresSkip,
  requireTestDatabaseUrl,
  schemaUrl,
  TEST_DATABASE_URL,
} from "../support/postgres.js";
import {
  type CraftedResponse,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from "../support/recording-server.js";

export const SECRET_KEY = `sk_test_${randomBytes(16).toString("hex")}`;
/** The Authorization header that carries {@link SECRET_KEY}. */
export const auth = { authorization: `Bearer ${SECRET_KEY}` };

/** The store behind a test service. */
export type TestStore = "sqlite" | "postgres";

/**
 * The stores a service suite runs on: SQLite always, PostgreSQL too when AIRLOCK_TEST_DATABASE_URL
 * is set (otherwise the skip is announced, so a green run never hides it).
 *
 * @example
 * describe.each(serviceStores("service-proxy"))("proxy (%s)", (store) => {
 *   beforeAll(async () => { t = await startTestService({ store }); });
 * });
 */
export function serviceStores(suite: string): readonly TestStore[] {
  announcePostgresSkip(`PostgreSQL variant of ${suite}`);
  return TEST_DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"];
}

/** Every line the service logged, as raw text (unredacted capture: secrets must not be passed at all). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = pino(
    { level: "trace", base: undefined },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    }),
  );
  text(): string {
    return this.lines.join("\n");
  }
}

export interface TestService {
  service: RunningService;
  url: string;
  dir: string;
  databaseUrl: string;
  sqlitePath: string | null;
  /** The PostgreSQL schema holding this service's tables (postgres store only). */
  pgSchema: string | null;
  logs: LogCapture;
  /** `fetch` on the service with the secret key. */
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  /** Extra environment (AIRTABLE_* for a non-demo service, AIRLOCK_* settings). */
  env?: Record<string, string>;
  /** "sqlite" (default) or "postgres" (needs AIRLOCK_TEST_DATABASE_URL). */
  store?: TestStore;
  /** Demo emulator options; default auto-approve so the flow runs without a consent click. */
  demoEmulator?: Partial<EmulatorOptions>;
  start?: Omit<StartServiceOptions, "logger" | "demoEmulator">;
}

/**
 * A fresh schema for one service (the store creates it). It is dropped after the whole run
 * (test/support/postgres-cleanup.ts), never while other files may be migrating.
 */
function postgresUrl(): { url: string; schema: string } {
  const schema = `airlock_svc_${randomBytes(5).toString("hex")}`;
  return { url: schemaUrl(schema), schema };
}

/**
 * Starts a service (demo mode unless `env.AIRTABLE_CLIENT_ID` is given) on a random port.
 *
 * @example
 * const t = await startTestService();
 * const res = await t.api("/v1/connections");
 * await t.close();
 */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-svc-"));
  const pgDb = options.store === "postgres" ? postgresUrl() : null;
  const sqlitePath = pgDb ? null : join(dir, "airlock.db");
  const databaseUrl = pgDb ? pgDb.url : (sqlitePath as string);
  const logs = new LogCapture();
  const config = readServiceConfig({
    PORT: "0",
    DATABASE_URL: databaseUrl,
    // Each service its own journal (the default for PostgreSQL is the working directory's).
    AIRLOCK_JOURNAL_DIR: join(dir, "journal"),
    AIRLOCK_SECRET_KEY: SECRET_KEY,
    AIRLOCK_ENCRYPTION_KEYS: generateKeyringValue("test1"),
    ...options.env,
  });
  const service = await startService(config, {
    logger: logs.logger,
    demoEmulator: { autoApprove: true, ...options.demoEmulator },
    ...options.start,
  });
  return {
    service,
    url: service.url,
    dir,
    databaseUrl,
    sqlitePath,
    pgSchema: pgDb?.schema ?? null,
    logs,
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${SECRET_KEY}`);
      return fetch(`${service.url}${path}`, { ...init, headers, redirect: "manual" });
    },
    close: async () => {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A recording upstream playing both of Airtable's hosts (OAuth and Web API), and a non-demo service
 * pointed at it. Close the service first, then the upstream.
 *
 * @example
 * const { t, upstream } = await startServiceWithUpstream(() => ({ status: 200, body: {} }), {
 *   clientId: "client_x",
 * });
 */
export async function startServiceWithUpstream(
  answer: (req: RecordedRequest) => CraftedResponse,
  options: {
    clientId: string;
    env?: Record<string, string>;
    start?: TestServiceOptions["start"];
    store?: TestStore;
  },
): Promise<{ t: TestService; upstream: RecordingServer }> {
  const upstream = await startRecordingServer(answer);
  try {
    const t = await startTestService({
      ...(options.store ? { store: options.store } : {}),
      env: {
        AIRTABLE_CLIENT_ID: options.clientId,
        AIRTABLE_OAUTH_URL: upstream.url,
        AIRTABLE_API_URL: upstream.url,
        ...options.env,
      },
      ...(options.start ? { start: options.start } : {}),
    });
    return { t, upstream };
  } catch (error) {
    await upstream.close();
    throw error;
  }
}

/** A browser that keeps cookies per host and never follows redirects on its own. */
export class Browser {
  readonly #jar = new Map<string, Map<string, string>>();

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let jar = this.#jar.get(host);
    if (!jar) {
      jar = new Map();
      this.#jar.set(host, jar);
    }
    return jar;
  }

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const jar = this.cookies(url);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
  }

  /** A form POST (a same-origin one unless `init.headers` says otherwise), cookies kept like {@link get}. */
  post(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
    if (!headers.has("sec-fetch-site")) headers.set("sec-fetch-site", "same-origin");
    return this.get(url, { body: "", ...init, method: "POST", headers });
  }
}

/**
 * Opens a connect link and presses Continue: GET (the "Continue to Airtable" page, which must be
 * there), then its form's POST; returns the POST's answer (a 302 to Airtable for a live link).
 *
 * @example
 * const toAirtable = await useConnectLink(browser, session.url);
 * const authorizeUrl = location(toAirtable);
 */
export async function useConnectLink(browser: Browser, url: string): Promise<Response> {
  const page = await browser.get(url, { headers: { accept: "text/html" } });
  if (page.status !== 200) throw new Error(`connect link: HTTP ${page.status} ${await page.text()}`);
  return browser.post(continueAction(await page.text(), url).href);
}

export function location(response: Response): string {
  const value = response.headers.get("location");
  if (!value) throw new Error(`expected a redirect, got HTTP ${response.status}`);
  return value;
}

export interface ConnectSteps {
  /** The connect link (single use). */
  connectUrl: string;
  /** Airtable's authorize URL the service redirected to. */
  authorizeUrl: string;
  /** The emulator's redirect back to the service (carries code and state). */
  callbackUrl: string;
  /** The service's answer to the callback. */
  final: Response;
}

/** Creates a connect session over the API and returns its JSON. */
export async function createSession(
  t: TestService,
  body: Record<string, unknown>,
): Promise<{ token: string; url: string; expires_at: string }> {
  const res = await t.api("/v1/connect-sessions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`connect session: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { token: string; url: string; expires_at: string };
}

/**
 * Walks the flow up to (not including) the callback: link → authorize (auto-approve) → redirect.
 *
 * @example
 * const steps = await startFlow(t, browser, { identifier: "user_1" });
 * const final = await browser.get(steps.callbackUrl);
 */
export async function startFlow(
  t: TestService,
  browser: Browser,
  body: Record<string, unknown>,
): Promise<Omit<ConnectSteps, "final">> {
  const session = await createSession(t, body);
  const toAirtable = await useConnectLink(browser, session.url);
  if (toAirtable.status !== 302)
    throw new Error(`connect link: HTTP ${toAirtable.status} ${await toAirtable.text()}`);
  const authorizeUrl = location(toAirtable);
  const back = await browser.get(authorizeUrl);
  if (back.status !== 302) throw new Error(`authorize: HTTP ${back.status} ${await back.text()}`);
  return { connectUrl: session.url, authorizeUrl, callbackUrl: location(back) };
}

/** The whole flow in one browser; returns every step. */
export async function connect(
  t: TestService,
  body: Record<string, unknown>,
  browser = new Browser(),
): Promise<ConnectSteps> {
  const steps = await startFlow(t, browser, body);
  const final = await browser.get(steps.callbackUrl);
  return { ...steps, final };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTP request whose target is sent byte for byte (fetch would normalise `..` and `\\`).
 *
 * @example
 * await rawRequest(t.url, "/v1/proxy/u/v0/%2e%2e/x", { headers: { authorization: "Bearer …" } });
 */
export function rawRequest(
  baseUrl: string,
  target: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname === "localhost" ? "127.0.0.1" : base.hostname,
        port: base.port,
        method: options.method ?? "GET",
        path: target,
        headers: {
          host: base.host,
          ...(options.body === undefined
            ? {}
            : { "content-length": String(Buffer.byteLength(options.body)) }),
          ...options.headers,
        },
        insecureHTTPParser: true,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Stores a connection in the service's store directly (for proxy tests against a recording
 * upstream) and drops the service's cached token for it.
 *
 * @example
 * await seedServiceConnection(t, "user_1", "tok_live");
 */
export async function seedServiceConnection(
  t: TestService,
  identifier: string,
  accessToken: string,
  refreshToken = `ref_${randomBytes(8).toString("hex")}`,
): Promise<void> {
  await seedConnection(t.service.ctx.store, { accessToken, refreshToken }, identifier, {
    now: t.service.ctx.now(),
    airtableUserId: "usrSeeded000000001",
  });
  t.service.ctx.tokens.invalidate(identifier);
}

/**
 * Every row of every table in the service's PostgreSQL schema, as one JSON text (raw, as stored).
 *
 * @example
 * expect(await dumpPostgres(t)).not.toContain(accessToken);
 */
export async function dumpPostgres(t: TestService): Promise<string> {
  if (!t.pgSchema) throw new Error("not a PostgreSQL test service");
  const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [t.pgSchema],
    );
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`SELECT * FROM "${t.pgSchema}"."${table_name}"`);
      parts.push(`${table_name}: ${JSON.stringify(rows.rows)}`);
    }
    return parts.join("\n");
  } finally {
    await client.end();
  }
}

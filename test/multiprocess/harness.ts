/**
 * Helpers for the multi-process suite: real OS processes (the emulator, several `airlock serve`
 * instances), real HTTP between them, one real PostgreSQL database per test file (or a given
 * PostgreSQL URL, or a SQLite file the instances share), and per-process clocks moved with
 * libfaketime (the honest way to make another process see time pass).
 *
 * `AIRLOCK_MP_CLI=/path/to/dist/cli/main.js` runs the suite against another build (e.g. a worktree
 * of an older commit, to see a new test fail there).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { z } from "zod";
import type { FaultInjector, faultsBodySchema } from "../../src/emulator/faults.js";
import type { EmulatorStats } from "../../src/emulator/stats.js";

import { FakeClock } from "../support/clock.js";
import { continueAction, isConnectLink } from "../support/connect-link.js";
import { libfaketimeMissing } from "../support/faketime.js";
import { freePort } from "../support/ports.js";
import { connectTestServer, postgresMissing, TEST_DATABASE_URL } from "../support/postgres.js";
import { announceSkip } from "../support/skip.js";

export type { EmulatorStats };
export { FakeClock, freePort };

/** What `POST /__emulator/faults` accepts (defaults such as `count` may be left out). */
type FaultsBody = z.input<typeof faultsBodySchema>;
/** What `GET /__emulator/faults` answers: the armed faults with their remaining counts. */
export type ArmedFaults = ReturnType<FaultInjector["snapshot"]>;

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const CLI = process.env.AIRLOCK_MP_CLI?.trim() || join(ROOT, "dist/cli/main.js");

/**
 * Why a suite of `startCluster` instances on the shared PostgreSQL cannot run here, or undefined:
 * it needs the server (AIRLOCK_TEST_DATABASE_URL) and libfaketime (every instance's clock).
 */
export const clusterMissing: string | undefined = postgresMissing ?? libfaketimeMissing();

/** The skip line of a suite that runs on `startCluster` with the shared PostgreSQL. */
export function announceClusterSkip(suite: string): void {
  announceSkip("multiprocess", suite, clusterMissing);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a truthy value; throws with `message` and the last value on timeout. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await sleep(options.intervalMs ?? 100);
  }
  throw new Error(`${options.message ?? "condition not met"} (last: ${describe(last)})`);
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface Child {
  name: string;
  process: ChildProcess;
  readonly pid: number;
  /** stdout + stderr so far. */
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 5 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<number | null>;
}

const children = new Set<Child>();

/**
 * Spawns `node dist/cli/main.js ...args` (in `cwd`, default the repository root). Every child is
 * killed when the test process exits.
 */
export function spawnCli(
  name: string,
  args: string[],
  env: Record<string, string> = {},
  cwd: string = ROOT,
): Child {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  let alive = true;
  void exited.then(() => {
    alive = false;
    for (const listener of listeners) listener();
  });
  const handle: Child = {
    name,
    process: child,
    get pid() {
      return child.pid ?? -1;
    },
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            done();
            resolveMatch(match);
          } else if (!alive) {
            done();
            reject(new Error(`${name} exited before printing ${pattern}:\n${output.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (!alive) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      children.delete(handle);
    },
  };
  children.add(handle);
  return handle;
}

process.once("exit", () => {
  for (const child of children) child.process.kill("SIGKILL");
});

/** Stops every child this test file started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop("SIGKILL")));
}

// ---------------------------------------------------------------------------------------------
// Emulator

export interface Emulator {
  child: Child;
  url: string;
  clientId: string;
  clientSecret: string;
  stats(): Promise<EmulatorStats>;
  advanceClock(seconds: number): Promise<void>;
  faults(faults: FaultsBody): Promise<void>;
  /**
   * The armed faults. A fault is taken when a request arrives (before any delay), so a token fault
   * whose `remaining` reached 0 (`token: null`) tells that its requests reached Airtable.
   */
  armed(): Promise<ArmedFaults>;
}

/** Starts `airlock emulator` as its own process (token endpoint latency 300 ms unless told). */
export async function startEmulator(options: {
  redirectUri: string;
  latencyMs?: number;
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  /** More integrations to host (`--integrations FILE`), each with the same redirect URI. */
  integrations?: Array<{ clientId: string; clientSecret: string; scopes: string[] }>;
}): Promise<Emulator> {
  const clientId = `mp-${randomUUID().slice(0, 8)}`;
  const clientSecret = randomBytes(24).toString("hex");
  const args = [
    "emulator",
    "--port",
    "0",
    "--client-id",
    clientId,
    "--client-secret",
    clientSecret,
    "--redirect-uri",
    options.redirectUri,
    "--auto-approve",
    "--latency-ms",
    String(options.latencyMs ?? 300),
  ];
  if (options.accessTokenTtl !== undefined) args.push("--access-token-ttl", String(options.accessTokenTtl));
  if (options.refreshTokenTtl !== undefined)
    args.push("--refresh-token-ttl", String(options.refreshTokenTtl));
  if (options.integrations !== undefined) {
    const file = join(mkdtempSync(join(tmpdir(), "airlock-mp-integrations-")), "emulator.json");
    const hosted = options.integrations.map((i) => ({ ...i, redirectUris: [options.redirectUri] }));
    writeFileSync(file, JSON.stringify(hosted));
    args.push("--integrations", file);
  }
  const child = spawnCli("emulator", args);
  const match = await child.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const url = match[1]!;
  const control = async (path: string, body?: unknown) => {
    const response = await fetch(`${url}/__emulator/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`emulator ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  return {
    child,
    url,
    clientId,
    clientSecret,
    stats: () => control("stats") as Promise<EmulatorStats>,
    advanceClock: async (seconds) => {
      await control("clock", { advance_seconds: seconds });
    },
    faults: async (faults) => {
      await control("faults", faults);
    },
    armed: () => control("faults") as Promise<ArmedFaults>,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface TestDatabase {
  /** The instances' DATABASE_URL (a postgres:// URL or a SQLite file path). */
  url: string;
  /** SQL with `$1`-style placeholders, on PostgreSQL or SQLite alike. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * A fresh database on the AIRLOCK_TEST_DATABASE_URL server (or on `server`, an admin URL), dropped
 * by `drop()`. Throws (so the test fails) when the server cannot be reached.
 */
export async function createTestDatabase(
  label: string,
  server: string | undefined = TEST_DATABASE_URL,
): Promise<TestDatabase> {
  if (!server) throw new Error("AIRLOCK_TEST_DATABASE_URL is not set");
  const name = `airlock_mp_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`.toLowerCase();
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 5000 });
  await connectTestServer(admin);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = postgresDatabase(url.href);
  return {
    ...db,
    async drop() {
      await db.drop();
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * An existing PostgreSQL database (e.g. on a private server the test stops and starts): `drop()`
 * only closes the test's pool. Queries fail while the server is down; idle connections that the
 * server ends (57P01) are dropped quietly.
 */
export function postgresDatabase(url: string): TestDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
  pool.on("error", () => undefined);
  return {
    url,
    async query(text, values) {
      const result = await pool.query(text, values);
      return result.rows;
    },
    drop: () => pool.end(),
  };
}

/**
 * A SQLite file that the instances share, read by the test through its own better-sqlite3
 * connection (opened on first use, busy timeout 5 s). `$1` placeholders work as on PostgreSQL.
 */
export function sqliteDatabase(path: string): TestDatabase {
  let connection: BetterSqlite3.Database | undefined;
  const open = () => {
    connection ??= new BetterSqlite3(path, { timeout: 5000 });
    return connection;
  };
  return {
    url: path,
    async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      const named = text.replace(/\$(\d+)/g, "@p$1");
      const params = Object.fromEntries(values.map((value, index) => [`p${index + 1}`, value]));
      const statement = open().prepare(named);
      return (statement.reader ? statement.all(params) : [statement.run(params)]) as R[];
    },
    async drop() {
      connection?.close();
      connection = undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Service instances

export interface Instance {
  name: string;
  url: string;
  /** The current process (replaced by `start()` and `restart()`). */
  child: Child;
  clock: FakeClock;
  /** This instance's environment on top of the cluster's (e.g. its own AIRLOCK_JOURNAL_DIR). */
  env: Record<string, string>;
  /** Its working directory (its own, as if on its own machine), under the cluster's dir. */
  cwd: string;
  /** The output of every process this instance ran, oldest first. */
  output(): string;
  /** SIGKILLs the process, then starts it again (same port, environment and clock) and waits healthy. */
  restart(): Promise<void>;
  /**
   * Sends `signal` and resolves to the exit code once the process exited (null: killed by a
   * signal; after `timeoutMs`, default 60 s, it is SIGKILLed).
   */
  stopGracefully(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Launches the process again (after it stopped) with the same port, environment and clock; waits healthy. */
  start(): Promise<void>;
  /** A Prometheus sample's value summed over matching series (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface Cluster {
  publicUrl: string;
  /** The server at the public URL when `ClusterOptions.front` started one. */
  front: ClusterFront | undefined;
  secretKey: string;
  emulator: Emulator;
  instances: Instance[];
  db: TestDatabase;
  dir: string;
  /** `/v1/...` call with the bearer key, on instance `index` (default 0). */
  api(path: string, init?: RequestInit & { instance?: number }): Promise<Response>;
  /** Runs the real connect flow (connect link → emulator consent → callback) for `identifier` (of `integration`). */
  connect(identifier: string, integration?: string): Promise<void>;
  /** `GET /v1/proxy/<identifier><path>` (default `/v0/meta/whoami`) on an instance; never throws. */
  proxy(instance: Instance | number, identifier: string, path?: string, init?: CallInit): Promise<Answer>;
  /** The connection's row as stored (undefined when absent); throws while the store is down. */
  row(identifier: string): Promise<ConnectionRow | undefined>;
  /** The `data` of every event of `type` (e.g. `connection.reauth_required`), optionally for one identifier. */
  events(type: string, identifier?: string): Promise<{ identifier: string; data: unknown }[]>;
  /** Moves every instance's clock and the emulator's clock forward by `seconds`. */
  advanceAll(seconds: number): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  label: string;
  instances: number;
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  /** The emulator's token endpoint latency in ms (default 300). */
  latencyMs?: number;
  /** Extra environment for every instance (webhook settings, keep-alive days...). */
  env?: Record<string, string>;
  /**
   * More Airtable integrations (ids), each hosted by the emulator with its own client and given to
   * every instance through AIRLOCK_INTEGRATIONS_FILE.
   */
  integrations?: string[];
  /** Extra environment for instance `index` only (e.g. its own AIRLOCK_JOURNAL_DIR). */
  instanceEnv?: (index: number) => Record<string, string>;
  /**
   * The store, instead of a fresh database on the AIRLOCK_TEST_DATABASE_URL server:
   * `{postgres: url}` uses that database as is (e.g. on a private server the test may stop);
   * `{sqlite: path}` makes every instance share that SQLite file.
   */
  database?: { postgres: string } | { sqlite: string };
  /**
   * A server to put at the public URL instead of instance 0 (e.g. one that fans Airtable's pings out
   * to every instance): called with the instances' URLs before any process starts; its `url`
   * becomes AIRLOCK_PUBLIC_URL and the redirect URI, and `close()` stops it.
   */
  front?: (instanceUrls: string[]) => Promise<ClusterFront>;
}

/** What `ClusterOptions.front` starts: a server at the cluster's public URL. */
export interface ClusterFront {
  readonly url: string;
  close(): Promise<void>;
}

async function openClusterDatabase(options: ClusterOptions): Promise<TestDatabase> {
  const database = options.database;
  if (database === undefined) return createTestDatabase(options.label);
  if ("postgres" in database) return postgresDatabase(database.postgres);
  return sqliteDatabase(database.sqlite);
}

/**
 * Starts the emulator and N `airlock serve` processes on one database (by default a fresh one on
 * the AIRLOCK_TEST_DATABASE_URL server; see `database`).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `airlock-mp-${options.label}-`));
  const db = await openClusterDatabase(options);
  const ports = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
  const front = await options.front?.(ports.map((port) => `http://127.0.0.1:${port}`));
  const publicUrl = front?.url ?? `http://127.0.0.1:${ports[0]}`;
  const extra = (options.integrations ?? []).map((id) => ({
    id,
    clientId: `mp-${id}-${randomUUID().slice(0, 8)}`,
    clientSecret: randomBytes(24).toString("hex"),
    scopes: ["data.records:read", "schema.bases:read"],
  }));
  const integrationsEnv: Record<string, string> = {};
  if (extra.length > 0) {
    const file = join(dir, "integrations.json");
    const entries = extra.map((i) => ({
      id: i.id,
      client_id: i.clientId,
      client_secret: i.clientSecret,
      scopes: i.scopes.join(" "),
    }));
    writeFileSync(file, JSON.stringify({ integrations: entries }));
    integrationsEnv.AIRLOCK_INTEGRATIONS_FILE = file;
  }
  const emulator = await startEmulator({
    redirectUri: `${publicUrl}/oauth/callback`,
    latencyMs: options.latencyMs ?? 300,
    ...(extra.length > 0 ? { integrations: extra.map(({ id: _id, ...client }) => client) } : {}),
    ...(options.accessTokenTtl !== undefined ? { accessTokenTtl: options.accessTokenTtl } : {}),
    ...(options.refreshTokenTtl !== undefined ? { refreshTokenTtl: options.refreshTokenTtl } : {}),
  });
  const secretKey = randomBytes(24).toString("hex");
  const baseEnv: Record<string, string> = {
    HOST: "127.0.0.1",
    AIRLOCK_PUBLIC_URL: publicUrl,
    DATABASE_URL: db.url,
    AIRLOCK_SECRET_KEY: secretKey,
    AIRLOCK_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    AIRTABLE_CLIENT_ID: emulator.clientId,
    AIRTABLE_CLIENT_SECRET: emulator.clientSecret,
    AIRTABLE_REDIRECT_URI: `${publicUrl}/oauth/callback`,
    AIRTABLE_OAUTH_URL: emulator.url,
    AIRTABLE_API_URL: emulator.url,
    AIRLOCK_LOG_LEVEL: process.env.AIRLOCK_MP_LOG_LEVEL ?? "info",
    ...integrationsEnv,
    ...options.env,
  };

  const instances = ports.map((port, index): Instance => {
    const name = `serve-${index}`;
    const clock = new FakeClock(dir, name);
    const url = `http://127.0.0.1:${port}`;
    const env = options.instanceEnv?.(index) ?? {};
    const cwd = join(dir, name);
    mkdirSync(cwd, { recursive: true });
    const runs: Child[] = [];
    const launch = () => {
      const child = spawnCli(
        name,
        ["serve"],
        { ...baseEnv, ...env, ...clock.env(), PORT: String(port) },
        cwd,
      );
      runs.push(child);
      return child;
    };
    const instance: Instance = {
      name,
      url,
      clock,
      env,
      cwd,
      child: launch(),
      output: () => runs.map((run) => run.output()).join(`\n--- ${name} restarted ---\n`),
      async restart() {
        await instance.child.stop("SIGKILL");
        await instance.start();
      },
      async stopGracefully(signal = "SIGTERM", timeoutMs = 60_000) {
        const { child } = instance;
        child.process.kill(signal);
        const timer = setTimeout(() => child.process.kill("SIGKILL"), timeoutMs);
        const code = await child.exited;
        clearTimeout(timer);
        return code;
      },
      async start() {
        if (instance.child.process.exitCode === null && instance.child.process.signalCode === null) {
          throw new Error(`${name} is still running (pid ${instance.child.pid}); stop it first`);
        }
        instance.child = launch();
        await waitHealthy(instance);
      },
      async metric(metricName, labels = {}) {
        const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${secretKey}` } });
        return sumMetric(await response.text(), metricName, labels);
      },
    };
    return instance;
  });
  // Every instance was spawned at once on the empty database: concurrent migrations must cope.
  await Promise.all(instances.map(waitHealthy));

  const cluster: Cluster = {
    publicUrl,
    front,
    secretKey,
    emulator,
    instances,
    db,
    dir,
    api(path, init = {}) {
      const { instance = 0, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set("authorization", `Bearer ${secretKey}`);
      if (rest.body !== undefined && !headers.has("content-type"))
        headers.set("content-type", "application/json");
      return fetch(`${instances[instance]!.url}${path}`, { ...rest, headers });
    },
    connect: (identifier, integration) => runConnectFlow(cluster, identifier, integration),
    proxy(instance, identifier, path = "/v0/meta/whoami", init = {}) {
      const target = typeof instance === "number" ? instances[instance]! : instance;
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${secretKey}`);
      return call(`${target.url}/v1/proxy/${encodeURIComponent(identifier)}${path}`, { ...init, headers });
    },
    async row(identifier) {
      const rows = await db.query<StoredRow>(
        "SELECT identifier, status, status_reason, lease_owner, lease_until, version FROM connections WHERE identifier = $1",
        [identifier],
      );
      return rows[0] && toConnectionRow(rows[0]);
    },
    async events(type, identifier) {
      const rows = await db.query<{ identifier: string; data: string }>(
        identifier === undefined
          ? "SELECT identifier, data FROM events WHERE type = $1 ORDER BY id"
          : "SELECT identifier, data FROM events WHERE type = $1 AND identifier = $2 ORDER BY id",
        identifier === undefined ? [type] : [type, identifier],
      );
      return rows.map((r) => ({ identifier: r.identifier, data: JSON.parse(r.data) as unknown }));
    },
    async advanceAll(seconds) {
      for (const instance of instances) instance.clock.advance(seconds);
      await emulator.advanceClock(seconds);
    },
    async close() {
      await stopAll();
      await front?.close();
      // Keep every process's output for post-mortems (test-artifacts/ is gitignored).
      const artifacts = join(ROOT, "test-artifacts", "multiprocess");
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(join(artifacts, `${options.label}-emulator.log`), emulator.child.output());
      for (const instance of instances) {
        writeFileSync(join(artifacts, `${options.label}-${instance.name}.log`), instance.output());
      }
      await db.drop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A connection row as the multi-process tests look at it (the version as a number). */
export interface ConnectionRow {
  identifier: string;
  status: string;
  status_reason: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  version: number;
}

interface StoredRow {
  identifier: string;
  status: string;
  status_reason: string | null;
  lease_owner: string | null;
  lease_until: string | number | null;
  version: string | number;
}

function toConnectionRow(row: StoredRow): ConnectionRow {
  return {
    ...row,
    lease_until: row.lease_until === null ? null : Number(row.lease_until),
    version: Number(row.version),
  };
}

/** An HTTP answer read to the end, or status 0 with the network error (connection reset, timeout). */
export interface Answer {
  status: number;
  body: string;
  headers: Headers;
  /** The network error when status is 0. */
  error?: string;
}

export type CallInit = RequestInit & { timeoutMs?: number };

/**
 * `fetch` that reads the whole body and never throws: a broken connection or a timeout (default
 * 60 s) is status 0 with the error, so a test can count it among the answers.
 *
 * @example
 * const answer = await call(`${instance.url}/healthz`);
 * expect(answer.status).toBe(200);
 */
export async function call(url: string, init: CallInit = {}): Promise<Answer> {
  const { timeoutMs = 60_000, ...rest } = init;
  try {
    const response = await fetch(url, { ...rest, signal: rest.signal ?? AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text(), headers: response.headers };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : "";
    return { status: 0, body: "", headers: new Headers(), error: `${(error as Error).message}${detail}` };
  }
}

/** The `error.code` of an Airlock error body (`{error: {code, …}}`), if it is one. */
export function errorCode(answer: Answer): string | undefined {
  try {
    const parsed = JSON.parse(answer.body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** A retryable store or refresh failure as the contract says: 503 `transient` with `Retry-After`. */
export function isTransient(answer: Answer): boolean {
  return answer.status === 503 && errorCode(answer) === "transient" && answer.headers.has("retry-after");
}

/** `{"200": 18, "503 transient": 2, "500 internal": 1}`: answers summarised for assertion messages. */
export function summarize(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key =
      answer.status === 0
        ? `0 ${answer.error ?? "network error"}`
        : [answer.status, errorCode(answer)].filter(Boolean).join(" ");
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Resolves once every armed token fault was taken, i.e. its requests reached the token endpoint
 * (arm `{token: {delay_ms: 1, count: N}}` as an arrival counter when no other fault is wanted).
 */
export async function waitForTokenRequests(cluster: Cluster, what: string): Promise<void> {
  await waitFor(async () => (await cluster.emulator.armed()).token === null, {
    timeoutMs: 20_000,
    intervalMs: 25,
    message: `${what} never reached the emulator's token endpoint`,
  });
}

/** The current version of each connection. */
export async function versionsOf(cluster: Cluster, ids: string[]): Promise<Map<string, number>> {
  const rows = await Promise.all(ids.map((id) => cluster.row(id)));
  return new Map(rows.map((row, i) => [ids[i]!, row?.version ?? Number.NaN]));
}

/** The same versions, one refresh later. */
export function bumped(versions: Map<string, number>): Map<string, number> {
  return new Map([...versions].map(([id, version]) => [id, version + 1]));
}

/**
 * Waits until every connection in `expected` is `active` at its expected version with no lease;
 * the error names the rows that are not. A store that is down meanwhile just means "not yet".
 */
export async function waitForSettledRows(
  cluster: Cluster,
  expected: Map<string, number>,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const rows = await Promise.all([...expected.keys()].map((id) => cluster.row(id)));
      const wrong = rows.filter(
        (row, i) =>
          row === undefined ||
          row.status !== "active" ||
          row.lease_owner !== null ||
          row.version !== expected.get([...expected.keys()][i]!),
      );
      if (wrong.length > 0) {
        throw new Error(`${wrong.length} rows not settled, e.g. ${JSON.stringify(wrong.slice(0, 3))}`);
      }
      return true;
    },
    {
      timeoutMs,
      intervalMs: 250,
      message: "the rows did not end active at the expected version without a lease",
    },
  );
}

async function waitHealthy(instance: Instance): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(`${instance.url}/healthz`);
      return response.ok;
    },
    {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: `${instance.name} did not answer /healthz; output:\n${instance.child.output().slice(-3000)}`,
    },
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}\n--- ${instance.name} output ---\n${instance.child.output().slice(-3000)}`,
    );
  });
}

/**
 * Browser-like walk through the real connect flow (connect link → Airtable consent, auto-approved
 * by the emulator → OAuth callback) with a cookie jar and manual redirects; checks the result is an
 * active connection.
 */
export async function runConnectFlow(
  service: { publicUrl: string; secretKey: string },
  identifier: string,
  integration?: string,
): Promise<void> {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${service.publicUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${service.secretKey}`, "content-type": "application/json" },
    });
  const created = await api("/v1/connect-sessions", {
    method: "POST",
    body: JSON.stringify(integration === undefined ? { identifier } : { identifier, integration }),
  });
  if (created.status !== 201)
    throw new Error(`connect-sessions: HTTP ${created.status} ${await created.text()}`);
  const { url } = (await created.json()) as { url: string };
  const jar = new Map<string, string>();
  const serviceOrigin = new URL(service.publicUrl).origin;
  let next = url;
  let method = "GET";
  for (let hop = 0; hop < 10; hop++) {
    const target = new URL(next);
    const headers: Record<string, string> = {};
    if (target.origin === serviceOrigin && jar.size > 0) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    }
    const response = await fetch(target, { method, redirect: "manual", headers });
    if (target.origin === serviceOrigin) {
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(";");
        const eq = pair!.indexOf("=");
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    }
    const location = response.headers.get("location");
    if (method === "GET" && response.status === 200 && isConnectLink(target)) {
      // The "Continue to Airtable" page: press Continue (a POST spends the link).
      next = continueAction(await response.text(), target).href;
      method = "POST";
      continue;
    }
    await response.arrayBuffer();
    method = "GET";
    if (response.status >= 300 && response.status < 400 && location) {
      next = new URL(location, target).href;
      continue;
    }
    if (response.status !== 200)
      throw new Error(`connect flow: ${target.pathname} answered ${response.status}`);
    break;
  }
  const check = await api(`/v1/connections/${encodeURIComponent(identifier)}`);
  const body = (await check.json()) as { status?: string };
  if (check.status !== 200 || body.status !== "active") {
    throw new Error(
      `connect flow did not create an active connection: ${check.status} ${JSON.stringify(body)}`,
    );
  }
}

/** Sums the samples of `name` whose labels include `labels` in Prometheus text format. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(name)) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? "";
    const ok = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (ok) total += Number(match[3]);
  }
  return total;
}

/** Fires `count` requests at once, spread round-robin over `urls`; resolves to their statuses. */
export async function burst(
  count: number,
  urlFor: (index: number) => string,
  init: RequestInit = {},
): Promise<{ statuses: number[]; bodies: string[] }> {
  const results = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      try {
        const response = await fetch(urlFor(index), init);
        return { status: response.status, body: await response.text() };
      } catch (error) {
        return { status: 0, body: (error as Error).message };
      }
    }),
  );
  return { statuses: results.map((r) => r.status), bodies: results.map((r) => r.body) };
}

/** `{200: 598, 503: 2}` style summary for assertion messages. */
export function countBy(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

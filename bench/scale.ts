/**
 * Scale: `count` connections (default 1,000,000) in PostgreSQL, bulk-inserted in SQL
 * (generate_series, no round trip per row), and one `airlock serve` instance over them:
 *
 * - the keep-alive due scan through the Store (timed) and its EXPLAIN ANALYZE (index or not);
 * - keep-alive throughput: `due` of the rows are 8 days old and hold real AES-256-GCM tokens whose
 *   refresh tokens a zero-latency emulator knows (loaded from an emulator state file), so the
 *   instance's own keep-alive loop refreshes them for real; refreshes/s comes from the rows'
 *   `last_refreshed_at` (first to last), and what that sustains per day and per 7-day cycle;
 * - the service's RSS, sampled every second while it refreshes and while connect flows run;
 * - connect flow throughput: sessions created and completed (browser hops, callback, code
 *   exchange) per second, 8 at a time.
 *
 * The other rows are filler: active (2% reauth_required), refreshed within the last 6 days, with a
 * placeholder ciphertext that is never decrypted (nothing reads a connection that is not due).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { BASIC_SCOPES } from "../src/emulator/scopes.js";
import { encryptionContext, openStore, parseEncryptionKeys } from "../src/store/index.js";
import { type Child, freePort, runConnectFlow, spawnCli, waitFor } from "../test/multiprocess/harness.js";
import { createBenchDatabase, rssMiB } from "./env.js";
import { percentile } from "./load.js";

export interface ScaleResult {
  connections: number;
  insertSeconds: number;
  scan: { limit: number; msMedian: number; msP99: number; usesIndex: boolean; explain: string };
  keepAlive: {
    due: number;
    refreshed: number;
    failed: number;
    seconds: number;
    refreshesPerSecond: number;
    refreshesPerDay: number;
    /** Connections one instance keeps alive when each is refreshed once per 7-day cycle. */
    connectionsPer7DayCycle: number;
  };
  connectFlow: { workers: number; seconds: number; completed: number; errors: number; perSecond: number };
  /** `series`: one sample a second, from the service's start through the connect flows. */
  rssMiB: { afterStart: number; min: number; max: number; end: number; samples: number; series: number[] };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SCOPES = ["data.records:read", "schema.bases:read"];
const INSERT_CHUNK = 100_000;

/**
 * @example
 * const r = await benchScale({ count: 100_000 }); // r.keepAlive.refreshesPerSecond
 */
export async function benchScale(
  options: { count?: number; due?: number; connectSeconds?: number } = {},
): Promise<ScaleResult> {
  const count = options.count ?? 1_000_000;
  const due = Math.min(options.due ?? 5_000, count);
  const db = await createBenchDatabase("scale");
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-scale-"));
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const keys = `k1:${randomBytes(32).toString("base64")}`;
  const children: Child[] = [];
  try {
    const keyring = parseEncryptionKeys(keys);
    const store = await openStore(db.url, { keyring, migrate: true });
    await store.close();
    const started = performance.now();
    const refreshTokens = await insertDue(pool, keys, due);
    await insertFiller(pool, keys, count - due);
    const insertSeconds = round((performance.now() - started) / 1000);
    await pool.query("ANALYZE connections");
    const scan = await scanTimings(db.url, keys, pool);

    const port = await freePort();
    const emulator = await startStatefulEmulator(
      dir,
      `http://127.0.0.1:${port}/oauth/callback`,
      refreshTokens,
    );
    children.push(emulator.child);
    const t0 = Date.now();
    const service = await startScaleService(port, db.url, keys, emulator);
    children.push(service.child);
    const rss: number[] = [rssMiB(service.child.pid)];
    const sample = setInterval(() => rss.push(rssMiB(service.child.pid)), 1000);
    try {
      const keepAlive = await measureKeepAlive(pool, due, t0);
      const connectFlow = await measureConnectFlow(service, options.connectSeconds ?? 10);
      return {
        connections: count,
        insertSeconds,
        scan,
        keepAlive,
        connectFlow,
        rssMiB: {
          afterStart: rss[0]!,
          min: Math.min(...rss),
          max: Math.max(...rss),
          end: rss[rss.length - 1]!,
          samples: rss.length,
          series: rss,
        },
      };
    } finally {
      clearInterval(sample);
    }
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => {});
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const COLUMNS = `identifier, status, status_reason, scopes, airtable_user_id, email, access_token_enc,
  refresh_token_enc, access_token_expires_at, refresh_token_expires_at, last_refreshed_at, created_at,
  updated_at, version`;

/** `due` connections last refreshed 8 days ago, with real encrypted tokens; returns their refresh tokens. */
async function insertDue(pool: pg.Pool, keys: string, due: number): Promise<string[]> {
  const keyring = parseEncryptionKeys(keys);
  const lastRefreshed = Date.now() - 8 * DAY_MS;
  const refreshTokens: string[] = [];
  for (let offset = 0; offset < due; offset += 500) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = offset; i < Math.min(due, offset + 500); i++) {
      const identifier = `due_${String(i).padStart(7, "0")}`;
      const refreshToken = randomBytes(48).toString("base64url");
      refreshTokens.push(refreshToken);
      const row = [
        identifier,
        "active",
        null,
        JSON.stringify(SCOPES),
        `usr${randomBytes(7).toString("hex")}`,
        null,
        keyring.encrypt(
          randomBytes(48).toString("base64url"),
          encryptionContext("connections", "access_token", identifier),
        ),
        keyring.encrypt(refreshToken, encryptionContext("connections", "refresh_token", identifier)),
        lastRefreshed + 3600_000,
        lastRefreshed + 60 * DAY_MS,
        lastRefreshed,
        lastRefreshed,
        lastRefreshed,
        1,
      ];
      const base = values.length;
      tuples.push(`(${row.map((_, k) => `$${base + k + 1}`).join(",")})`);
      values.push(...row);
    }
    await pool.query(`INSERT INTO connections (${COLUMNS}) VALUES ${tuples.join(",")}`, values);
  }
  return refreshTokens;
}

/** `n` filler rows in chunks of 100k, each one INSERT … SELECT over generate_series. */
async function insertFiller(pool: pg.Pool, keys: string, n: number): Promise<void> {
  const keyring = parseEncryptionKeys(keys);
  // A real ciphertext (of another identifier: it would not decrypt here, and nothing tries).
  const placeholder = keyring.encrypt(
    "x".repeat(64),
    encryptionContext("connections", "access_token", "filler"),
  );
  const now = Date.now();
  for (let start = 0; start < n; start += INSERT_CHUNK) {
    const end = Math.min(n, start + INSERT_CHUNK) - 1;
    await pool.query(
      `INSERT INTO connections (${COLUMNS})
       SELECT 'scale_' || lpad(i::text, 7, '0'),
              CASE WHEN i % 50 = 1 THEN 'reauth_required' ELSE 'active' END,
              CASE WHEN i % 50 = 1 THEN 'invalid_grant' END,
              $1, 'usr' || md5(i::text), NULL, $2, $2,
              t + 3600000, t + 60 * $3::bigint, t, t, t, 1
       FROM (SELECT i, ($4::bigint - floor(random() * 6 * $3::bigint))::bigint AS t
             FROM generate_series($5::int, $6::int) AS i) AS s`,
      [JSON.stringify(SCOPES), placeholder, DAY_MS, now, start, end],
    );
    process.stderr.write(
      `bench: scale inserted ${Math.min(n, end + 1).toLocaleString("en-US")} filler rows\n`,
    );
  }
}

/** Store.listDueForKeepAlive (limit 100) 30×, and EXPLAIN ANALYZE of its query. */
async function scanTimings(url: string, keys: string, pool: pg.Pool): Promise<ScaleResult["scan"]> {
  const store = await openStore(url, { keyring: parseEncryptionKeys(keys), migrate: false });
  const limit = 100;
  const refreshedBefore = new Date(Date.now() - 7 * DAY_MS);
  const timings: number[] = [];
  try {
    for (let run = 0; run < 30; run++) {
      const t = performance.now();
      await store.listDueForKeepAlive({ refreshedBefore, limit });
      timings.push(performance.now() - t);
    }
  } finally {
    await store.close();
  }
  timings.sort((a, b) => a - b);
  const plan = await pool.query<{ "QUERY PLAN": string }>(
    // The Store's query (src/store/sql/connections.ts, listDueForKeepAlive) for the default integration.
    `EXPLAIN (ANALYZE, BUFFERS) SELECT identifier FROM connections
      WHERE integration_id = $1 AND status = $2 AND last_refreshed_at < $3 ORDER BY last_refreshed_at LIMIT $4`,
    ["default", "active", refreshedBefore.getTime(), limit],
  );
  const explain = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
  return {
    limit,
    msMedian: round(percentile(timings, 0.5)),
    msP99: round(percentile(timings, 0.99)),
    usesIndex: /Index (Only )?Scan using connections_keep_alive_due/.test(explain),
    explain,
  };
}

interface StatefulEmulator {
  child: Child;
  url: string;
  clientId: string;
  clientSecret: string;
}

/** `airlock emulator` (no latency) whose state file already holds a grant per refresh token. */
async function startStatefulEmulator(
  dir: string,
  redirectUri: string,
  refreshTokens: string[],
): Promise<StatefulEmulator> {
  const clientId = `scale-${randomBytes(4).toString("hex")}`;
  const clientSecret = randomBytes(24).toString("hex");
  const stateFile = join(dir, "emulator-state.json");
  const expires = Date.now() + 60 * DAY_MS;
  const sha = (token: string) => createHash("sha256").update(token).digest("base64url");
  writeFileSync(
    stateFile,
    JSON.stringify({
      version: 1,
      saved_at: new Date().toISOString(),
      client_id: clientId,
      clock_offset_ms: 0,
      registered_scopes: [...BASIC_SCOPES],
      enabled_scopes: [...BASIC_SCOPES],
      grants: refreshTokens.map((token, i) => ({
        id: `grt_scale_${i}`,
        scopes: SCOPES,
        bases: "all",
        access_tokens: [],
        refresh_tokens: [{ sha256: sha(token), expires_at: expires, rotated: false }],
      })),
    }),
  );
  const child = spawnCli("emulator", [
    "emulator",
    ...["--port", "0", "--client-id", clientId, "--client-secret", clientSecret],
    ...["--redirect-uri", redirectUri, "--auto-approve", "--latency-ms", "0", "--state-file", stateFile],
  ]);
  const match = await child.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
  return { child, url: match[1]!, clientId, clientSecret };
}

async function startScaleService(
  port: number,
  databaseUrl: string,
  keys: string,
  emulator: StatefulEmulator,
): Promise<{ child: Child; url: string; secretKey: string }> {
  const url = `http://127.0.0.1:${port}`;
  const secretKey = randomBytes(24).toString("hex");
  const child = spawnCli("serve", ["serve"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    AIRLOCK_PUBLIC_URL: url,
    DATABASE_URL: databaseUrl,
    AIRLOCK_SECRET_KEY: secretKey,
    AIRLOCK_ENCRYPTION_KEYS: keys,
    AIRTABLE_CLIENT_ID: emulator.clientId,
    AIRTABLE_CLIENT_SECRET: emulator.clientSecret,
    AIRTABLE_REDIRECT_URI: `${url}/oauth/callback`,
    AIRTABLE_OAUTH_URL: emulator.url,
    AIRTABLE_API_URL: emulator.url,
    AIRLOCK_LOG_LEVEL: "warn",
    AIRLOCK_KEEPALIVE_DAYS: "7",
    AIRLOCK_KEEPALIVE_INTERVAL_SECONDS: "1",
  });
  await waitFor(async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: 30_000,
    message: "airlock serve did not become healthy",
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${child.output().slice(-3000)}`);
  });
  return { child, url, secretKey };
}

/** Waits until every due row was refreshed (or the deadline), then reads the rate off the rows themselves. */
async function measureKeepAlive(
  pool: pg.Pool,
  due: number,
  since: number,
): Promise<ScaleResult["keepAlive"]> {
  const progress = () =>
    pool.query<{ refreshed: string; failed: string; first: string | null; last: string | null }>(
      `SELECT count(*) FILTER (WHERE last_refreshed_at >= $1 AND status = 'active') AS refreshed,
              count(*) FILTER (WHERE status <> 'active') AS failed,
              min(last_refreshed_at) FILTER (WHERE last_refreshed_at >= $1) AS first,
              max(last_refreshed_at) FILTER (WHERE last_refreshed_at >= $1) AS last
       FROM connections WHERE identifier LIKE 'due\\_%'`,
      [since],
    );
  // At least 20 refreshes/s is expected; anything slower shows as refreshed < due.
  const deadline = Date.now() + Math.max(120_000, (due / 20) * 1000);
  let row = (await progress()).rows[0]!;
  while (Number(row.refreshed) + Number(row.failed) < due && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    row = (await progress()).rows[0]!;
  }
  const refreshed = Number(row.refreshed);
  const seconds = row.first && row.last ? (Number(row.last) - Number(row.first)) / 1000 : 0;
  const perSecond = seconds > 0 ? (refreshed - 1) / seconds : 0;
  return {
    due,
    refreshed,
    failed: Number(row.failed),
    seconds: round(seconds),
    refreshesPerSecond: Math.round(perSecond),
    refreshesPerDay: Math.round(perSecond * 86_400),
    connectionsPer7DayCycle: Math.round(perSecond * 86_400 * 7),
  };
}

/** `workers` connect flows at a time for `seconds`, each a new identifier. */
async function measureConnectFlow(
  service: { url: string; secretKey: string },
  seconds: number,
): Promise<ScaleResult["connectFlow"]> {
  const workers = 8;
  let completed = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        try {
          await runConnectFlow({ publicUrl: service.url, secretKey: service.secretKey }, `flow_${next++}`);
          completed++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { workers, seconds: round(elapsed), completed, errors, perSecond: round(completed / elapsed) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

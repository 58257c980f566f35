/**
 * Scale: 100,000 connections in PostgreSQL (bulk-inserted with real AES-256-GCM token columns),
 * the keep-alive due scan through the Store (and its EXPLAIN), and the service's memory before and
 * after the rows exist.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { encryptionContext, openStore, parseEncryptionKeys } from "../src/store/index.js";
import { createBenchDatabase, rssMiB, startService } from "./env.js";
import { percentile } from "./load.js";

export interface ScaleResult {
  connections: number;
  insertSeconds: number;
  dueRows: number;
  scanMsMedian: number;
  scanMsP99: number;
  scanLimit: number;
  explain: string;
  usesIndex: boolean;
  serviceRssBeforeMiB: number;
  serviceRssAfterMiB: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const BATCH = 1000;

export async function benchScale(count = 100_000): Promise<ScaleResult> {
  const db = await createBenchDatabase("scale");
  // Keep-alive far out (59 days) so the running service does not start refreshing the fake rows.
  const service = await startService({
    databaseUrl: db.url,
    identifier: "scale_seed",
    latencyMs: 0,
    env: { AIRLOCK_KEEPALIVE_DAYS: "59" },
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    await touchService(service.url, service.secretKey);
    const serviceRssBeforeMiB = rssMiB(service.child.pid);

    const keyring = parseEncryptionKeys(service.encryptionKeys);
    const now = Date.now();
    const started = performance.now();
    let due = 0;
    for (let offset = 0; offset < count; offset += BATCH) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let i = offset; i < Math.min(count, offset + BATCH); i++) {
        const identifier = `scale_${String(i).padStart(6, "0")}`;
        // ~1% are older than the 7-day keep-alive window: the due set.
        const stale = i % 100 === 0;
        if (stale) due++;
        const lastRefreshed = now - (stale ? 8 * DAY_MS : Math.floor(Math.random() * 6 * DAY_MS));
        const row = [
          identifier,
          i % 50 === 1 ? "reauth_required" : "active",
          i % 50 === 1 ? "invalid_grant" : null,
          JSON.stringify(["data.records:read", "schema.bases:read"]),
          `usr${randomBytes(7).toString("hex")}`,
          null,
          keyring.encrypt(
            randomBytes(48).toString("base64url"),
            encryptionContext("connections", "access_token", identifier),
          ),
          keyring.encrypt(
            randomBytes(64).toString("base64url"),
            encryptionContext("connections", "refresh_token", identifier),
          ),
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
      await pool.query(
        `INSERT INTO connections (identifier, status, status_reason, scopes, airtable_user_id, email,
          access_token_enc, refresh_token_enc, access_token_expires_at, refresh_token_expires_at,
          last_refreshed_at, created_at, updated_at, version) VALUES ${tuples.join(",")}`,
        values,
      );
    }
    const insertSeconds = (performance.now() - started) / 1000;
    await pool.query("ANALYZE connections");

    // The due scan exactly as the keep-alive runs it: through the Store.
    const store = await openStore(db.url, { keyring, migrate: false });
    const scanLimit = 100;
    const refreshedBefore = new Date(now - 7 * DAY_MS);
    const timings: number[] = [];
    let dueRows = 0;
    try {
      for (let run = 0; run < 30; run++) {
        const t = performance.now();
        const ids = await store.listDueForKeepAlive({ refreshedBefore, limit: scanLimit });
        timings.push(performance.now() - t);
        dueRows = ids.length;
      }
    } finally {
      await store.close();
    }
    timings.sort((a, b) => a - b);
    const plan = await pool.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT identifier FROM connections
        WHERE status = $1 AND last_refreshed_at < $2 ORDER BY last_refreshed_at LIMIT $3`,
      ["active", refreshedBefore.getTime(), scanLimit],
    );
    const explain = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");

    await touchService(service.url, service.secretKey);
    await new Promise((r) => setTimeout(r, 2000));
    const serviceRssAfterMiB = rssMiB(service.child.pid);
    return {
      connections: count,
      insertSeconds: round(insertSeconds),
      dueRows: Math.min(dueRows, due),
      scanMsMedian: round(percentile(timings, 0.5)),
      scanMsP99: round(percentile(timings, 0.99)),
      scanLimit,
      explain,
      usesIndex: /Index (Only )?Scan using connections_keep_alive_due/.test(explain),
      serviceRssBeforeMiB,
      serviceRssAfterMiB,
    };
  } finally {
    await pool.end();
    await service.stop();
    await db.drop();
  }
}

/** Exercises what a busy service does with many rows: listing pages, metrics (counts by status), health. */
async function touchService(url: string, secretKey: string): Promise<void> {
  const headers = { authorization: `Bearer ${secretKey}` };
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const query: string = cursor ? `?limit=100&after=${encodeURIComponent(cursor)}` : "?limit=100";
    const response = await fetch(`${url}/v1/connections${query}`, { headers });
    const body = (await response.json()) as { next_cursor?: string | null; nextCursor?: string | null };
    cursor = body.next_cursor ?? body.nextCursor ?? null;
    if (!cursor) break;
  }
  await (await fetch(`${url}/metrics`, { headers })).text();
  await (await fetch(`${url}/healthz`)).text();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

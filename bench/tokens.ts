/**
 * Token benchmarks: the `getAccessToken` hot path (a fresh token, served from the version-keyed
 * cache) on both stores, and the refresh storm (callers × processes on one PostgreSQL) against the
 * emulator with a 300 ms token endpoint.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { generateKeyringValue, openStore, parseEncryptionKeys } from "../src/store/index.js";
import type { Store } from "../src/store/types.js";
import type { TokenRefresher } from "../src/tokens/refresher.js";
import { TokenManager } from "../src/tokens/token-manager.js";
import { FakeClock, ROOT } from "../test/multiprocess/harness.js";
import { createBenchDatabase, startService } from "./env.js";
import { percentile } from "./load.js";

export interface HotPathResult {
  store: "sqlite" | "postgres";
  operations: number;
  seconds: number;
  opsPerSecond: number;
}

/** Never called in the hot path: the token is fresh. Reaching it is a benchmark failure. */
const noRefresh: TokenRefresher = {
  refresh: () => Promise.reject(new Error("the hot-path benchmark must not refresh")),
};

async function seed(store: Store, identifier: string): Promise<void> {
  const now = new Date();
  await store.upsertConnection(
    {
      identifier,
      scopes: ["data.records:read"],
      airtableUserId: "usrBench",
      email: null,
      accessToken: `bench-access-${identifier}`,
      refreshToken: `bench-refresh-${identifier}`,
      accessTokenExpiresAt: new Date(now.getTime() + 3600_000),
      refreshTokenExpiresAt: new Date(now.getTime() + 60 * 86_400_000),
    },
    now,
    (created) => ({ type: created ? "connection.created" : "connection.recovered" }),
  );
}

async function measureHotPath(store: Store, durationMs: number): Promise<HotPathResult> {
  const identifier = "hot_path_user";
  await seed(store, identifier);
  const tokens = new TokenManager({ store, refresher: noRefresh });
  for (let i = 0; i < 10_000; i++) await tokens.getAccessToken(identifier); // warm-up (JIT, cache)
  let operations = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  while (performance.now() < deadline) {
    // Batches of sequential awaits: the clock is read once per 1,000 calls.
    for (let i = 0; i < 1000; i++) await tokens.getAccessToken(identifier);
    operations += 1000;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    store: store.kind,
    operations,
    seconds: round(seconds),
    opsPerSecond: Math.round(operations / seconds),
  };
}

export async function benchHotPath(durationMs = 2000): Promise<HotPathResult[]> {
  const results: HotPathResult[] = [];
  const keyring = parseEncryptionKeys(generateKeyringValue());
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-hot-"));
  try {
    const sqlite = await openStore(join(dir, "airlock.db"), { keyring });
    try {
      results.push(await measureHotPath(sqlite, durationMs));
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const db = await createBenchDatabase("hot");
  try {
    const postgres = await openStore(db.url, { keyring });
    try {
      results.push(await measureHotPath(postgres, durationMs));
    } finally {
      await postgres.close();
    }
  } finally {
    await db.drop();
  }
  return results;
}

export interface StormResult {
  processes: number;
  callersPerProcess: number;
  upstreamRefreshes: number;
  invalidGrants: number;
  errors: number;
  distinctTokens: number;
  p50WaitMs: number;
  p99WaitMs: number;
  maxWaitMs: number;
}

/** Runs each `[processes, callers]` storm in turn on one connection, each after its token expired. */
export async function benchStorm(
  shapes: ReadonlyArray<readonly [number, number]> = [
    [1, 100],
    [3, 100],
    [6, 50],
  ],
): Promise<StormResult[]> {
  const db = await createBenchDatabase("storm");
  const identifier = "storm_user";
  const service = await startService({ databaseUrl: db.url, identifier, latencyMs: 300 });
  // The service made the connection; from here on only the workers touch it.
  await service.child.stop();
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-storm-"));
  const results: StormResult[] = [];
  try {
    for (const [index, [processes, callers]] of shapes.entries()) {
      // Each round's workers live 61 minutes further on: the last round's token has expired for them.
      const clock = new FakeClock(dir, `round-${index}`);
      clock.advance((index + 1) * 61 * 60);
      const before = await service.emulator.stats();
      const workers = Array.from({ length: processes }, () =>
        startWorker({
          ...clock.env(),
          DATABASE_URL: db.url,
          AIRLOCK_ENCRYPTION_KEYS: service.encryptionKeys,
          AIRTABLE_CLIENT_ID: service.emulator.clientId,
          AIRTABLE_CLIENT_SECRET: service.emulator.clientSecret,
          AIRTABLE_REDIRECT_URI: `${service.url}/oauth/callback`,
          AIRTABLE_OAUTH_URL: service.emulator.url,
          STORM_IDENTIFIER: identifier,
          STORM_CALLERS: String(callers),
        }),
      );
      await Promise.all(workers.map((worker) => worker.ready));
      for (const worker of workers) worker.go();
      const reports = await Promise.all(workers.map((worker) => worker.report));
      const after = await service.emulator.stats();
      const waits = reports.flatMap((report) => report.waits).sort((a, b) => a - b);
      results.push({
        processes,
        callersPerProcess: callers,
        upstreamRefreshes: after.refreshes - before.refreshes,
        invalidGrants: after.invalid_grants - before.invalid_grants,
        errors: reports.reduce((sum, report) => sum + report.errors, 0),
        distinctTokens:
          new Set(reports.map((r) => r.distinctTokens)).size === 1 ? reports[0]!.distinctTokens : -1,
        p50WaitMs: round(percentile(waits, 0.5)),
        p99WaitMs: round(percentile(waits, 0.99)),
        maxWaitMs: round(waits[waits.length - 1] ?? 0),
      });
    }
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
  return results;
}

interface WorkerReport {
  waits: number[];
  errors: number;
  distinctTokens: number;
}

function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/storm-worker.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const lines = createInterface({ input: child.stdout });
  const failed = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`storm worker exited (${code}):\n${stderr.slice(-2000)}`))),
  );
  failed.catch(() => undefined);
  const ready = Promise.race([
    new Promise<void>((resolve) => lines.on("line", (line) => line === "ready" && resolve())),
    failed,
  ]);
  const report = Promise.race([
    new Promise<WorkerReport>((resolve) =>
      lines.on("line", (line) => line.startsWith("{") && resolve(JSON.parse(line) as WorkerReport)),
    ),
    failed,
  ]);
  return {
    ready,
    report,
    go: () => child.stdin.write("go\n"),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

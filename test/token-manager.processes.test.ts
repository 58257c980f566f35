/**
 * The TokenManager across real OS processes: each worker (test/fixtures/token-worker.mjs, built
 * code) is a separate Airlock instance on the same SQLite file or PostgreSQL schema, refreshing
 * through the real OAuth client against the real emulator. Exactly one upstream refresh, crashes
 * recognised by lease expiry (the dead holder's lease is made to end in the past through the store,
 * as if it had run out, so no test sleeps out a lease and no process's clock is faked).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import type { SqlStore } from "../src/store/sql-store.js";
import { seedConnection } from "./support/connection-tokens.js";
import { type StoreTarget, storeTargets } from "./support/store-targets.js";
import { emulatorStats, tokenTestbed } from "./support/token-fixtures.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WORKER = join(ROOT, "test/fixtures/token-worker.mjs");

beforeAll(() => {
  // The workers run built code; build when it is missing or older than the sources it needs.
  const built = ["dist/tokens/token-manager.js", "dist/store/index.js", "dist/airtable/oauth.js"].map((f) =>
    join(ROOT, f),
  );
  const sources = ["src/tokens", "src/store", "src/airtable", "src/shared"].flatMap((folder) =>
    readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .map((f) => join(ROOT, folder, f)),
  );
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (built.some((f) => !existsSync(f) || statSync(f).mtimeMs < newest)) {
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "ignore" });
  }
}, 180_000);

for (const target of storeTargets("cross-process token manager (test/token-manager.processes.test.ts)")) {
  describe.skipIf(target.skip)(`TokenManager across processes on ${target.name}`, () => suite(target));
}

/**
 * The lease a killed holder left on `identifier` runs out now: its end is moved to the past through
 * the store's own renewal (as the holder, on its version), what its 30 s lease would be after 30 s.
 */
async function expireDeadLease(store: SqlStore, identifier: string): Promise<void> {
  const row = await store.getConnection(identifier);
  if (!row?.leaseOwner || !row.leaseUntil || row.leaseUntil.getTime() <= Date.now()) {
    throw new Error(`no live lease on ${identifier}: ${JSON.stringify(row?.leaseUntil)}`);
  }
  const renewal = { owner: row.leaseOwner, version: row.version, until: new Date(Date.now() - 1000) };
  if (!(await store.renewRefreshLease(identifier, renewal))) throw new Error("the lease could not be moved");
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line that satisfies `match`. */
  line(match: (line: string) => boolean): Promise<string>;
}

function suite(target: StoreTarget) {
  const workers: Worker[] = [];
  const bed = tokenTestbed(target, {
    // Airtable-like latency on the token endpoint: every process's callers pile up behind one refresh.
    latencyMs: 300,
    afterEach: () => {
      for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    },
  });

  const spawnWorker = (mode: string, options: { calls?: number; dbUrl?: string } = {}) => {
    const env = {
      ...process.env,
      WORKER_MODE: mode,
      WORKER_DB_URL: options.dbUrl ?? bed.db.url,
      WORKER_KEYS: bed.db.keys,
      WORKER_EMULATOR_URL: bed.emulator.url,
      WORKER_IDENTIFIER: "u1",
      WORKER_CALLS: String(options.calls ?? 50),
    };
    const child = spawn(process.execPath, [WORKER], { cwd: ROOT, env, stdio: "pipe" });
    let out = "";
    let err = "";
    const waiting: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
    const lines: string[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      let newline = out.indexOf("\n");
      while (newline >= 0) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        lines.push(line);
        for (const w of [...waiting]) {
          if (w.match(line)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve(line);
          }
        }
        newline = out.indexOf("\n");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    const worker: Worker = {
      child,
      line: (match) =>
        new Promise((resolve, reject) => {
          const found = lines.find(match);
          if (found !== undefined) return resolve(found);
          waiting.push({ match, resolve });
          child.once("exit", (code) =>
            reject(new Error(`worker exited (${code}) before the line; stderr: ${err}`)),
          );
        }),
    };
    workers.push(worker);
    return worker;
  };

  const storm = async (count: number, calls: number) => {
    const started = Array.from({ length: count }, () => spawnWorker("storm", { calls }));
    await Promise.all(started.map((w) => w.line((l) => l === "ready")));
    for (const w of started) w.child.stdin.write("go\n");
    const lines = await Promise.all(started.map((w) => w.line((l) => l.startsWith("{"))));
    return lines.map(
      (l) => JSON.parse(l) as { tokens: string[]; errors: Array<{ code: string; reason: string | null }> },
    );
  };

  it("migrates a fresh database from several processes at once", async () => {
    const fresh = target.name === "sqlite" ? join(bed.db.url, "..", "fresh.db") : `${bed.db.url}_fresh`;
    const started = [1, 2, 3].map(() => spawnWorker("migrate", { dbUrl: fresh }));
    const lines = await Promise.all(started.map((w) => w.line((l) => l.startsWith("{"))));
    expect(lines).toEqual(Array(3).fill('{"ok":true}'));
    if (target.name === "postgres") {
      const url = new URL(fresh);
      const schema = url.searchParams.get("schema");
      url.searchParams.delete("schema");
      const admin = new pg.Client({ connectionString: url.toString() });
      await admin.connect();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    }
  });

  it("three processes × 100 callers on an expired token: exactly one upstream refresh", async () => {
    const seeded = await seedConnection(bed.store, bed.emulator.url, "u1", {
      now: new Date(),
      accessTtlMs: -1,
    });
    const before = await emulatorStats(bed.emulator.url);
    const results = await storm(3, 100);
    const after = await emulatorStats(bed.emulator.url);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = new Set(results.flatMap((r) => r.tokens));
    expect(all.size).toBe(1);
    const row = await bed.store.getConnection("u1");
    expect(row).toMatchObject({ version: 2, status: "active", leaseOwner: null });
    expect([...all][0]).toBe(row?.accessToken);
    expect(row?.accessToken).not.toBe(seeded.accessToken);
  });

  it("kill -9 of the lease holder before Airtable rotated: the next process refreshes normally", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: new Date(), accessTtlMs: -1 });
    const holder = spawnWorker("hang-before");
    await holder.line((l) => l === "refreshing");
    holder.child.kill("SIGKILL");
    await expireDeadLease(bed.store, "u1");
    const before = await emulatorStats(bed.emulator.url);
    const results = await storm(2, 20);
    const after = await emulatorStats(bed.emulator.url);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(new Set(results.flatMap((r) => r.tokens)).size).toBe(1);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    expect(await bed.store.getConnection("u1")).toMatchObject({ status: "active", version: 2 });
    // Newest first: one ordinary refresh, nothing about an interruption.
    expect((await bed.store.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
      "connection.refreshed",
      "connection.created",
    ]);
  });

  it("kill -9 of the lease holder after Airtable rotated: refresh_interrupted, one event, one further attempt", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: new Date(), accessTtlMs: -1 });
    const holder = spawnWorker("hang-after");
    await holder.line((l) => l === "rotated");
    holder.child.kill("SIGKILL");
    await expireDeadLease(bed.store, "u1");
    const before = await emulatorStats(bed.emulator.url);
    const results = await storm(2, 20);
    const after = await emulatorStats(bed.emulator.url);
    const errors = results.flatMap((r) => r.errors);
    expect(errors).toHaveLength(40);
    expect(new Set(errors.map((e) => `${e.code}:${e.reason}`))).toEqual(
      new Set(["reauth_required:refresh_interrupted"]),
    );
    expect(after.refreshes - before.refreshes).toBe(0);
    expect(after.invalid_grants - before.invalid_grants).toBe(1);
    expect(await bed.store.getConnection("u1")).toMatchObject({
      status: "reauth_required",
      statusReason: "refresh_interrupted",
    });
    const events = await bed.store.listEvents("u1", { limit: 10 });
    expect(events.filter((e) => e.type === "connection.reauth_required")).toHaveLength(1);
  });
}

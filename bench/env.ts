/**
 * Shared setup for the benchmark sections: the emulator and `airlock serve` as real processes
 * (reusing the multi-process test harness), a fresh PostgreSQL database, and process memory.
 */

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import {
  type Child,
  type Emulator,
  freePort,
  runConnectFlow,
  spawnCli,
  startEmulator,
  waitFor,
} from "../test/multiprocess/harness.js";

/** The PostgreSQL server the bench uses (a fresh database on it, dropped afterwards). */
export const BENCH_POSTGRES_URL =
  process.env.AIRLOCK_BENCH_DATABASE_URL ??
  process.env.AIRLOCK_TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `airlock_bench_<random>` on the server; throws a readable error when unreachable. */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `airlock_bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: BENCH_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface Service {
  url: string;
  secretKey: string;
  encryptionKeys: string;
  child: Child;
  emulator: Emulator;
  stop(): Promise<void>;
}

/** Emulator + one `airlock serve` on `databaseUrl`, with one connection made through the real flow. */
export async function startService(options: {
  databaseUrl: string;
  identifier: string;
  env?: Record<string, string>;
  latencyMs?: number;
}): Promise<Service> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const emulator = await startEmulator({
    redirectUri: `${url}/oauth/callback`,
    latencyMs: options.latencyMs ?? 300,
  });
  const secretKey = randomBytes(24).toString("hex");
  const encryptionKeys = `k1:${randomBytes(32).toString("base64")}`;
  const child = spawnCli("serve", ["serve"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    AIRLOCK_PUBLIC_URL: url,
    DATABASE_URL: options.databaseUrl,
    AIRLOCK_SECRET_KEY: secretKey,
    AIRLOCK_ENCRYPTION_KEYS: encryptionKeys,
    AIRTABLE_CLIENT_ID: emulator.clientId,
    AIRTABLE_CLIENT_SECRET: emulator.clientSecret,
    AIRTABLE_REDIRECT_URI: `${url}/oauth/callback`,
    AIRTABLE_OAUTH_URL: emulator.url,
    AIRTABLE_API_URL: emulator.url,
    AIRLOCK_LOG_LEVEL: "warn",
    ...options.env,
  });
  await waitFor(async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: 20_000,
    message: "airlock serve did not become healthy",
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${child.output().slice(-3000)}`);
  });
  await runConnectFlow({ publicUrl: url, secretKey }, options.identifier);
  return {
    url,
    secretKey,
    encryptionKeys,
    child,
    emulator,
    async stop() {
      await child.stop();
      await emulator.child.stop();
    },
  };
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Stops a child process with SIGTERM and resolves once it has exited (at once if it already has).
 *
 * @example
 * return { url, pid: child.pid!, stop: () => stopChild(child) };
 */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/**
 * Helpers for TokenManager tests: the real OAuth client on the emulator, the emulator's control API,
 * and the per-suite testbed (emulator, store, clock). Seeding a connection: connection-tokens.ts.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { AirtableOAuth } from "../../src/airtable/oauth.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import type { SqlStore } from "../../src/store/sql-store.js";
import { TokenManager, type TokenManagerOptions } from "../../src/tokens/token-manager.js";
import { TestClock } from "./clock.js";
import { SCOPES } from "./connection-tokens.js";
import type { StoreTarget, TestDatabase } from "./store-targets.js";

export const CLIENT_ID = "airlock-emulator-client";
export const REDIRECT_URI = "http://localhost:8085/callback";

/** The real OAuth client pointed at the emulator (a public client, as the emulator defaults to). */
export function emulatorOAuth(emulatorUrl: string, now?: () => Date): AirtableOAuth {
  return new AirtableOAuth(
    {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      scopes: SCOPES,
      oauthUrl: emulatorUrl,
      apiUrl: emulatorUrl,
    },
    now ? { now, timeoutMs: 30_000 } : { timeoutMs: 30_000 },
  );
}

export interface EmulatorCounters {
  refreshes: number;
  invalid_grants: number;
  code_exchanges: number;
}

export async function emulatorStats(emulatorUrl: string): Promise<EmulatorCounters> {
  const res = await fetch(new URL("/__emulator/stats", emulatorUrl));
  return (await res.json()) as EmulatorCounters;
}

/** Whether an armed token-endpoint fault is still waiting for its request (false once taken). */
export async function tokenFaultArmed(emulatorUrl: string): Promise<boolean> {
  const res = await fetch(new URL("/__emulator/faults", emulatorUrl));
  return ((await res.json()) as { token: unknown }).token !== null;
}

/** Arms a token-endpoint fault (`null` clears it). */
export async function setTokenFault(
  emulatorUrl: string,
  fault: {
    status?: number;
    error?: string;
    count?: number;
    delay_ms?: number;
    rotate_then_drop?: boolean;
  } | null,
): Promise<void> {
  const res = await fetch(new URL("/__emulator/faults", emulatorUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: fault }),
  });
  if (!res.ok) throw new Error(`fault not armed: ${res.status} ${await res.text()}`);
}

/** What a TokenManager suite works with; read the fields inside tests and hooks only. */
export interface TokenTestbed {
  /** The real emulator, one per suite, auto-approving. */
  readonly emulator: RunningEmulator;
  /** A fresh database per test (SQLite file or PostgreSQL schema). */
  readonly db: TestDatabase;
  /** A store opened on `db`. */
  readonly store: SqlStore;
  /** A fresh clock per test. */
  readonly clock: TestClock;
  /** A TokenManager on `store`, refreshing against the emulator on `clock`; closed after the test. */
  manager(options?: Partial<TokenManagerOptions>): TokenManager;
}

/**
 * Registers the hooks TokenManager suites share: one emulator for the suite (with token-endpoint
 * latency, so concurrent callers really overlap), a fresh database, store and clock per test, and
 * teardown (the caller's `afterEach` first, then managers closed, then the database dropped).
 *
 * @example
 * function suite(target: StoreTarget) {
 *   const bed = tokenTestbed(target, { latencyMs: 100 });
 *   it("…", async () => {
 *     await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now() });
 *     await bed.manager().getAccessToken("u1");
 *   });
 * }
 */
export function tokenTestbed(
  target: StoreTarget,
  options: {
    latencyMs: number;
    /** Runs after the per-test database, store and clock exist. */
    beforeEach?: () => Promise<void>;
    /** Runs before managers close and the database is dropped. */
    afterEach?: () => void;
  },
): TokenTestbed {
  let emulator: RunningEmulator | undefined;
  let db: TestDatabase | undefined;
  let store: SqlStore | undefined;
  let clock: TestClock | undefined;
  const managers: TokenManager[] = [];
  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`tokenTestbed: ${name} is only available inside tests`);
    return value;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ autoApprove: true, latencyMs: options.latencyMs });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    db = await target.create();
    store = await db.open();
    clock = new TestClock();
    await options.beforeEach?.();
  });
  afterEach(async () => {
    options.afterEach?.();
    for (const m of managers.splice(0)) await m.close();
    await db?.cleanup();
  });

  const bed: TokenTestbed = {
    get emulator() {
      return ready(emulator, "emulator");
    },
    get db() {
      return ready(db, "db");
    },
    get store() {
      return ready(store, "store");
    },
    get clock() {
      return ready(clock, "clock");
    },
    manager(overrides = {}) {
      const m = new TokenManager({
        store: bed.store,
        refresher: emulatorOAuth(bed.emulator.url, bed.clock.now),
        now: bed.clock.now,
        ...overrides,
      });
      managers.push(m);
      return m;
    },
  };
  return bed;
}

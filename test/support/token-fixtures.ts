/**
 * Helpers for TokenManager tests: a settable clock, the real emulator's control API, a connection
 * seeded from a real authorization against the emulator, and the per-suite testbed (emulator, store).
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { AirtableOAuth } from "../../src/airtable/oauth.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { loginAutoApproved } from "../../src/emulator/testing.js";
import type { SqlStore } from "../../src/store/sql-store.js";
import type { Store } from "../../src/store/types.js";
import { TokenManager, type TokenManagerOptions } from "../../src/tokens/token-manager.js";
import type { StoreTarget, TestDatabase } from "./store-targets.js";

export const SCOPES = ["data.records:read", "schema.bases:read"];
export const CLIENT_ID = "airlock-emulator-client";
export const REDIRECT_URI = "http://localhost:8085/callback";

/**
 * A clock tests move by hand; starts at the real time so the emulator and the store agree roughly.
 *
 * @example
 * const clock = new TestClock();
 * clock.advance(61 * 60_000);
 */
export class TestClock {
  #ms = Date.now();
  readonly now = (): Date => new Date(this.#ms);
  advance(ms: number): void {
    this.#ms += ms;
  }
}

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

/**
 * Authorizes against the emulator and stores the connection; `accessTtlMs` sets the stored expiry
 * (≤ 0: already expired, so the next getAccessToken must refresh).
 */
export async function seedConnection(
  store: Store,
  emulatorUrl: string,
  identifier: string,
  options: { now: Date; accessTtlMs?: number; refreshTtlMs?: number },
): Promise<{ accessToken: string; refreshToken: string }> {
  const issued = await loginAutoApproved(emulatorUrl, SCOPES.join(" "));
  const at = options.now.getTime();
  await store.upsertConnection(
    {
      identifier,
      scopes: issued.scope.split(" "),
      airtableUserId: null,
      email: null,
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
      accessTokenExpiresAt: new Date(at + (options.accessTtlMs ?? 3600_000)),
      refreshTokenExpiresAt: new Date(at + (options.refreshTtlMs ?? 60 * 86_400_000)),
    },
    options.now,
    (created) => ({ type: created ? "connection.created" : "connection.recovered" }),
  );
  return { accessToken: issued.access_token, refreshToken: issued.refresh_token };
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

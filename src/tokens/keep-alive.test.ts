/** Keep-alive against real stores and the real emulator; two schedulers at once stay safe. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type StoreTarget, storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import {
  emulatorOAuth,
  emulatorStats,
  seedConnection,
  TestClock,
} from "../../test/support/token-fixtures.js";
import { type RunningEmulator, startEmulator } from "../emulator/index.js";
import type { SqlStore } from "../store/sql-store.js";
import { startKeepAlive } from "./keep-alive.js";
import { TokenManager } from "./token-manager.js";

const DAY = 86_400_000;

for (const target of storeTargets("keep-alive (src/tokens/keep-alive.test.ts)")) {
  describe.skipIf(target.skip)(`keep-alive on ${target.name}`, () => suite(target));
}

function suite(target: StoreTarget) {
  let emulator: RunningEmulator;
  let db: TestDatabase;
  let store: SqlStore;
  let clock: TestClock;
  const managers: TokenManager[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ autoApprove: true, latencyMs: 30 });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    db = await target.create();
    store = await db.open();
    clock = new TestClock();
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close();
    await db.cleanup();
  });

  const manager = (s: SqlStore) => {
    const m = new TokenManager({
      store: s,
      refresher: emulatorOAuth(emulator.url, clock.now),
      now: clock.now,
    });
    managers.push(m);
    return m;
  };

  it("refreshes every due connection once, even with a scheduler on every instance", async () => {
    const old = ["a", "b", "c", "d", "e", "f"];
    for (const id of old)
      await seedConnection(store, emulator.url, id, { now: new Date(clock.now().getTime() - 8 * DAY) });
    await seedConnection(store, emulator.url, "fresh", { now: new Date(clock.now().getTime() - 1 * DAY) });
    await seedConnection(store, emulator.url, "dead", { now: new Date(clock.now().getTime() - 30 * DAY) });
    await store.markReauthRequired(
      "dead",
      { version: 1, reason: "invalid_grant", now: clock.now() },
      { type: "x" },
    );

    const other = await db.open();
    const options = { keepAliveDays: 7, concurrency: 2, now: clock.now, runAtStart: false } as const;
    const one = startKeepAlive({ store, tokenManager: manager(store), ...options });
    const two = startKeepAlive({ store: other, tokenManager: manager(other), ...options });
    const before = await emulatorStats(emulator.url);
    const counts = await Promise.all([one.runOnce(), two.runOnce()]);
    const after = await emulatorStats(emulator.url);
    expect(after.refreshes - before.refreshes).toBe(old.length);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    expect(counts[0]! + counts[1]!).toBeGreaterThanOrEqual(old.length);
    for (const id of old) {
      const row = await store.getConnection(id);
      expect(row).toMatchObject({ status: "active", version: 2 });
      expect(row!.lastRefreshedAt!.getTime()).toBe(clock.now().getTime());
    }
    expect((await store.getConnection("fresh"))?.version).toBe(1);
    expect((await store.getConnection("dead"))?.status).toBe("reauth_required");
    // Nothing is due any more.
    expect(await one.runOnce()).toBe(0);
    expect((await emulatorStats(emulator.url)).refreshes).toBe(after.refreshes);
    // A week later, everything active is due again.
    clock.advance(7 * DAY + 1);
    expect(await two.runOnce()).toBe(old.length + 1);
    await Promise.all([one.stop(), two.stop()]);
  });

  it("runs on its schedule and stops cleanly", async () => {
    await seedConnection(store, emulator.url, "a", { now: new Date(clock.now().getTime() - 8 * DAY) });
    const keepAlive = startKeepAlive({ store, tokenManager: manager(store), now: clock.now, intervalMs: 50 });
    await waitUntil(async () => (await store.getConnection("a"))?.version === 2);
    await keepAlive.stop();
    expect(await keepAlive.runOnce()).toBe(0);
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

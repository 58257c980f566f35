/** Keep-alive against real stores and the real emulator; two schedulers at once stay safe. */
import { describe, expect, it } from "vitest";
import { seedConnection } from "../../test/support/connection-tokens.js";
import { type StoreTarget, storeTargets } from "../../test/support/store-targets.js";
import { emulatorStats, tokenTestbed } from "../../test/support/token-fixtures.js";
import type { SqlStore } from "../store/sql-store.js";
import { startKeepAlive } from "./keep-alive.js";

const DAY = 86_400_000;

for (const target of storeTargets("keep-alive (src/tokens/keep-alive.test.ts)")) {
  describe.skipIf(target.skip)(`keep-alive on ${target.name}`, () => suite(target));
}

function suite(target: StoreTarget) {
  const bed = tokenTestbed(target, { latencyMs: 30 });
  const manager = (store: SqlStore) => bed.manager({ store });

  it("refreshes every due connection once, even with a scheduler on every instance", async () => {
    const old = ["a", "b", "c", "d", "e", "f"];
    for (const id of old)
      await seedConnection(bed.store, bed.emulator.url, id, {
        now: new Date(bed.clock.now().getTime() - 8 * DAY),
      });
    await seedConnection(bed.store, bed.emulator.url, "fresh", {
      now: new Date(bed.clock.now().getTime() - 1 * DAY),
    });
    await seedConnection(bed.store, bed.emulator.url, "dead", {
      now: new Date(bed.clock.now().getTime() - 30 * DAY),
    });
    await bed.store.markReauthRequired(
      "dead",
      { version: 1, reason: "invalid_grant", now: bed.clock.now() },
      { type: "x" },
    );

    const other = await bed.db.open();
    const options = { keepAliveDays: 7, concurrency: 2, now: bed.clock.now, runAtStart: false } as const;
    const one = startKeepAlive({ store: bed.store, tokenManager: manager(bed.store), ...options });
    const two = startKeepAlive({ store: other, tokenManager: manager(other), ...options });
    const before = await emulatorStats(bed.emulator.url);
    const counts = await Promise.all([one.runOnce(), two.runOnce()]);
    const after = await emulatorStats(bed.emulator.url);
    expect(after.refreshes - before.refreshes).toBe(old.length);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    expect(counts[0]! + counts[1]!).toBeGreaterThanOrEqual(old.length);
    for (const id of old) {
      const row = await bed.store.getConnection(id);
      expect(row).toMatchObject({ status: "active", version: 2 });
      expect(row!.lastRefreshedAt!.getTime()).toBe(bed.clock.now().getTime());
    }
    expect((await bed.store.getConnection("fresh"))?.version).toBe(1);
    expect((await bed.store.getConnection("dead"))?.status).toBe("reauth_required");
    // Nothing is due any more.
    expect(await one.runOnce()).toBe(0);
    expect((await emulatorStats(bed.emulator.url)).refreshes).toBe(after.refreshes);
    // A week later, everything active is due again.
    bed.clock.advance(7 * DAY + 1);
    expect(await two.runOnce()).toBe(old.length + 1);
    await Promise.all([one.stop(), two.stop()]);
  });

  it("runs on its schedule and stops cleanly", async () => {
    await seedConnection(bed.store, bed.emulator.url, "a", {
      now: new Date(bed.clock.now().getTime() - 8 * DAY),
    });
    const keepAlive = startKeepAlive({
      store: bed.store,
      tokenManager: manager(bed.store),
      now: bed.clock.now,
      intervalMs: 50,
    });
    await waitUntil(async () => (await bed.store.getConnection("a"))?.version === 2);
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

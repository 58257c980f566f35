/**
 * The purge loop of `airlock serve` prunes the event history to AIRLOCK_EVENT_RETENTION_DAYS
 * (real flows through the emulator, a test clock moved past the window): the events table
 * shrinks, and each connection keeps its newest event.
 */
import { afterAll, describe, expect, it } from "vitest";
import { connect, serviceStores, startTestService, type TestService } from "./security/harness.js";
import { TestClock } from "./support/clock.js";

const DAY = 24 * 3600_000;

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(serviceStores("service event retention"))("event retention in the purge loop (%s)", (store) => {
  const services: TestService[] = [];
  afterAll(async () => {
    for (const t of services) await t.close();
  });

  it("deletes events older than AIRLOCK_EVENT_RETENTION_DAYS, keeping each connection's newest", async () => {
    const clock = new TestClock({ running: true });
    const t = await startTestService({
      store,
      env: { AIRLOCK_EVENT_RETENTION_DAYS: "7" },
      start: { now: clock.now, purgeIntervalMs: 50, keepAlive: false },
    });
    services.push(t);
    for (let i = 0; i < 3; i++) await connect(t, { identifier: "kept_user" });
    await connect(t, { identifier: "other_user" });
    const events = async (id: string) => (await t.service.ctx.store.listEvents(id, { limit: 100 })).length;
    const before = await events("kept_user");
    expect(before).toBeGreaterThanOrEqual(3);

    // Inside the window nothing goes.
    clock.advance(6 * DAY);
    await new Promise((r) => setTimeout(r, 300));
    expect(await events("kept_user")).toBe(before);

    clock.advance(2 * DAY);
    await until(async () => (await events("kept_user")) === 1, "the old events to be pruned");
    expect(await events("other_user")).toBe(1);
  });
});

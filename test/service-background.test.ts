/**
 * `startService` wires the background jobs: keep-alive refreshes a connection whose tokens are
 * older than AIRLOCK_KEEPALIVE_DAYS (real emulator refresh), and webhook delivery signs and sends
 * `connection.created` to AIRLOCK_WEBHOOK_URL (a real receiving server) when it is set. Both jobs
 * run on SQLite and (when AIRLOCK_TEST_DATABASE_URL is set) PostgreSQL.
 */
import { createHmac } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { connect, serviceStores, startTestService, type TestService } from "./security/harness.js";
import { TestClock } from "./support/clock.js";
import { type RecordedRequest, startRecordingServer } from "./support/recording-server.js";

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(serviceStores("service-background"))(
  "background jobs started by startService (%s)",
  (store) => {
    const cleanup: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step();
    });

    it("keep-alive refreshes a connection idle for longer than AIRLOCK_KEEPALIVE_DAYS", async () => {
      const clock = new TestClock({ running: true });
      const t: TestService = await startTestService({
        store,
        env: { AIRLOCK_KEEPALIVE_DAYS: "1" },
        start: { now: clock.now, keepAliveIntervalMs: 100 },
      });
      cleanup.push(() => t.close());
      await connect(t, { identifier: "idle_user" });
      const before = t.service.emulator!.stats().refreshes;
      const versionBefore = (await t.service.ctx.store.getConnection("idle_user"))!.version;
      clock.advance(26 * 3600_000);
      await until(() => t.service.emulator!.stats().refreshes > before, "a keep-alive refresh");
      await until(
        async () => (await t.service.ctx.store.getConnection("idle_user"))!.version > versionBefore,
        "the refreshed tokens to be stored",
      );
      const row = await t.service.ctx.store.getConnection("idle_user");
      expect(row?.status).toBe("active");
      expect(row?.lastRefreshedAt).not.toBeNull();
    });

    it("delivers signed webhooks for connection events when AIRLOCK_WEBHOOK_URL is set", async () => {
      const receiver = await startRecordingServer(() => ({ status: 204 }));
      cleanup.push(() => receiver.close());
      const secretBytes = Buffer.alloc(32, 5);
      const t = await startTestService({
        store,
        env: {
          AIRLOCK_WEBHOOK_URL: `${receiver.url}/hooks/airlock`,
          AIRLOCK_WEBHOOK_SECRET: `whsec_${secretBytes.toString("base64")}`,
        },
        start: { webhookPollIntervalMs: 50, keepAlive: false },
      });
      cleanup.push(() => t.close());
      await connect(t, { identifier: "hooked_user" });
      await until(() => receiver.requests.length > 0, "a webhook delivery");
      const hook = receiver.requests[0] as RecordedRequest;
      expect(hook.url).toBe("/hooks/airlock");
      const payload = JSON.parse(hook.body) as { type: string; data: Record<string, unknown> };
      expect(payload.type).toBe("connection.created");
      expect(JSON.stringify(payload)).toContain("hooked_user");
      const id = String(hook.headers["webhook-id"]);
      const timestamp = String(hook.headers["webhook-timestamp"]);
      const expected = createHmac("sha256", secretBytes)
        .update(`${id}.${timestamp}.${hook.body}`)
        .digest("base64");
      expect(String(hook.headers["webhook-signature"])).toContain(`v1,${expected}`);
      await t.service.close();
    });
  },
);

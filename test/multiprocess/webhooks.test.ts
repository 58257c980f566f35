/**
 * Webhooks from the durable outbox, with two `airlock serve` processes on one PostgreSQL: the
 * receiver is down while events happen (and one instance is killed meanwhile), then comes up.
 * Every event arrives, every signature verifies with the SDK's `verifyWebhook`, and the outbox
 * drains.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirlockWebhookEvent, verifyWebhook } from "../../src/client/webhooks.js";
import {
  announceClusterSkip,
  type Cluster,
  clusterMissing,
  freePort,
  sleep,
  startCluster,
  waitFor,
} from "./harness.js";

announceClusterSkip("webhook receiver down, then up");

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

describe.skipIf(clusterMissing !== undefined)(
  "webhooks survive a receiver outage and an instance crash",
  () => {
    let cluster: Cluster;
    let port: number;
    let receiver: Server | undefined;
    const received: AirlockWebhookEvent[] = [];
    const rejected: string[] = [];

    beforeAll(async () => {
      port = await freePort(); // reserved, but nothing listens: the receiver is down
      cluster = await startCluster({
        label: "webhooks",
        instances: 2,
        env: {
          AIRLOCK_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/airlock`,
          AIRLOCK_WEBHOOK_SECRET: SECRET,
        },
      });
    }, 60_000);

    afterAll(async () => {
      await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
      await cluster?.close();
    });

    const pending = async () =>
      cluster.db.query<{ id: string; type: string; attempts: number }>(
        "SELECT id, type, attempts FROM events WHERE webhook_state = 'pending' ORDER BY created_at",
      );

    it("delivers every event once the receiver is back, with valid signatures", async () => {
      // connection.created ×3
      for (const identifier of ["hook_a", "hook_b", "hook_c"]) await cluster.connect(identifier);
      // connection.deleted
      const deleted = await cluster.api("/v1/connections/hook_c", { method: "DELETE", instance: 1 });
      expect(deleted.status).toBeLessThan(300);
      // connection.reauth_required: the token expires at Airtable (a 401 forces a refresh) and Airtable
      // rejects hook_b's refresh token. The instances' clocks stay put, so webhook timestamps are current.
      await cluster.emulator.faults({ token: { status: 400, error: "invalid_grant", count: 1 } });
      await cluster.emulator.advanceClock(61 * 60);
      const failed = await fetch(`${cluster.instances[1]!.url}/v1/proxy/hook_b/v0/meta/whoami`, {
        headers: { authorization: `Bearer ${cluster.secretKey}` },
      });
      expect(failed.status).not.toBe(200);
      // connection.recovered: the user reconnects.
      await cluster.connect("hook_b");

      // Every event is in the outbox and has failed at least once against the dead receiver.
      await waitFor(
        async () => {
          const rows = await pending();
          return rows.length >= 6 && rows.every((row) => Number(row.attempts) >= 1) ? rows : null;
        },
        { timeoutMs: 20_000, message: "outbox items were not attempted while the receiver was down" },
      );
      let failedDeliveries = 0;
      for (const instance of cluster.instances) {
        failedDeliveries += await instance.metric("airlock_webhook_deliveries_total", { outcome: "failed" });
      }
      expect(failedDeliveries).toBeGreaterThanOrEqual(1);

      // An instance dies with items in flight; its leases expire and the retries survive in the DB.
      await cluster.instances[0]!.restart();
      await sleep(1000);
      const expected = await pending();
      const types = expected.map((row) => row.type).sort();
      expect(types).toEqual([
        "connection.created",
        "connection.created",
        "connection.created",
        "connection.deleted",
        "connection.reauth_required",
        "connection.recovered",
      ]);

      // The receiver comes up on the same address.
      receiver = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          try {
            received.push(verifyWebhook(SECRET, request.headers, Buffer.concat(chunks)));
            response.writeHead(204).end();
          } catch (error) {
            rejected.push((error as Error).message);
            response.writeHead(400).end();
          }
        });
      });
      await new Promise<void>((r) => receiver!.listen(port, "127.0.0.1", r));

      await waitFor(async () => (await pending()).length === 0, {
        timeoutMs: 40_000,
        message: "the outbox did not drain after the receiver came back",
      });
      expect(rejected).toEqual([]);
      const ids = new Set(received.map((event) => event.id));
      for (const row of expected)
        expect(ids.has(row.id), `event ${row.id} (${row.type}) never arrived`).toBe(true);
      const receivedTypes = [...new Map(received.map((e) => [e.id, e.type])).values()].sort();
      expect(receivedTypes).toEqual(types);
      for (const event of received) {
        expect(event.data.identifier).toMatch(/^hook_[abc]$/);
        expect(JSON.stringify(event)).not.toMatch(/access_token|refresh_token|accessToken|refreshToken/);
      }
      const reauth = received.find((event) => event.type === "connection.reauth_required");
      expect(reauth?.data).toEqual({ identifier: "hook_b", reason: "invalid_grant" });
    }, 90_000);
  },
);

import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../client/webhooks.js";
import { silentLogger } from "../shared/log.js";
import { createMetrics, type Metrics } from "../shared/metrics.js";
import { generateKeyringValue, openStore, parseEncryptionKeys } from "../store/index.js";
import type { Store } from "../store/types.js";
import {
  DEFAULT_WEBHOOK_EVENTS,
  generateWebhookSecret,
  parseWebhookEvents,
  parseWebhookSecret,
  signWebhook,
  startWebhookDelivery,
  webhookBackoffMs,
  webhookPayload,
} from "./webhooks.js";

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver whose answer the test controls. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  let mode: "ok" | "fail" | "hang" = "ok";
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      if (mode === "hang") return; // never answers
      response.writeHead(mode === "ok" ? 204 : 500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    setMode(next: typeof mode) {
      mode = next;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("webhook delivery from the outbox (real SQLite store, real HTTP receiver)", () => {
  let dir: string;
  let dbPath: string;
  let keys: string;
  let store: Store;
  let metrics: Metrics;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const secret = generateWebhookSecret();
  // Ahead of the real clock, so events the store stamps with Date.now() are due.
  let nowMs = Date.now() + 1000;
  const now = () => new Date(nowMs);

  const open = () =>
    openStore(dbPath, { keyring: parseEncryptionKeys(keys), webhookEvents: new Set(DEFAULT_WEBHOOK_EVENTS) });

  /** A delivery whose background loop is already stopped: the test drives `runOnce` itself. */
  async function manualDelivery(overrides: { timeoutMs?: number; owner?: string; store?: Store } = {}) {
    const delivery = startWebhookDelivery({
      store: overrides.store ?? store,
      url: receiver.url,
      secret,
      metrics,
      logger: silentLogger,
      now,
      pollIntervalMs: 60_000,
      ...(overrides.timeoutMs ? { timeoutMs: overrides.timeoutMs } : {}),
      ...(overrides.owner ? { owner: overrides.owner } : {}),
    });
    await delivery.stop();
    return delivery;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "airlock-webhooks-"));
    dbPath = join(dir, "airlock.db");
    keys = generateKeyringValue();
    store = await open();
    metrics = createMetrics();
    receiver = await startReceiver();
    nowMs = Date.now() + 1000;
  });

  afterEach(async () => {
    await store.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("POSTs a Standard Webhooks signed JSON event and marks it delivered", async () => {
    const delivery = await manualDelivery();
    const event = await store.appendEvent("user_1", {
      type: "connection.reauth_required",
      data: { reason: "invalid_grant", access_token: "must-not-leak", refreshToken: "nor-this" },
    });
    expect(await delivery.runOnce()).toBe(1);

    expect(receiver.deliveries).toHaveLength(1);
    const { headers, body } = receiver.deliveries[0]!;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-id"]).toBe(event.id);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(nowMs / 1000)));
    // Independent check of the signature recipe: base64(HMAC-SHA256(key, "id.timestamp.body")).
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const expected = createHmac("sha256", key)
      .update(`${event.id}.${headers["webhook-timestamp"]}.${body}`)
      .digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);

    const verified = verifyWebhook(secret, headers, body, { now });
    expect(verified).toEqual({
      id: event.id,
      type: "connection.reauth_required",
      timestamp: event.createdAt.toISOString(),
      data: { identifier: "user_1", reason: "invalid_grant" },
    });
    expect(body).not.toMatch(/must-not-leak|nor-this/);
    expect(await metrics.registry.getSingleMetricAsString("airlock_webhook_deliveries_total")).toMatch(
      /outcome="delivered"} 1/,
    );
    // Delivered items are not claimed again.
    nowMs += 24 * 60 * 60 * 1000;
    expect(await delivery.runOnce()).toBe(0);
  });

  it("retries a failed delivery after a backoff, with the same webhook-id, and survives a restart", async () => {
    const first = await manualDelivery();
    const event = await store.appendEvent("user_2", { type: "connection.created" });
    receiver.setMode("fail");
    expect(await first.runOnce()).toBe(1);
    // Not due again until the backoff (at most 1 s after the first failure) has passed.
    expect(await first.runOnce()).toBe(0);

    // Restart: a new store handle on the same database, a new deliverer.
    await store.close();
    store = await open();
    const second = await manualDelivery({ owner: "instance-2" });
    nowMs += 1001;
    receiver.setMode("ok");
    expect(await second.runOnce()).toBe(1);

    expect(receiver.deliveries.map((d) => d.headers["webhook-id"])).toEqual([event.id, event.id]);
    const text = await metrics.registry.getSingleMetricAsString("airlock_webhook_deliveries_total");
    expect(text).toMatch(/outcome="failed"} 1/);
    expect(text).toMatch(/outcome="delivered"} 1/);
    nowMs += 60 * 60 * 1000;
    expect(await second.runOnce()).toBe(0);
  });

  it("counts a receiver that never answers as a failure (timeout) and backs off exponentially", async () => {
    const delivery = await manualDelivery({ timeoutMs: 200 });
    await store.appendEvent("user_3", { type: "connection.deleted" });
    receiver.setMode("hang");
    expect(await delivery.runOnce()).toBe(1);
    // Second failure: the delay doubles (1–2 s), so 1.001 s later it may not be due yet, 2.001 s later it is.
    nowMs += 1001;
    expect(await delivery.runOnce()).toBe(1);
    nowMs += 2001;
    receiver.setMode("ok");
    expect(await delivery.runOnce()).toBe(1);
    expect(receiver.deliveries).toHaveLength(3);
    expect(await metrics.registry.getSingleMetricAsString("airlock_webhook_deliveries_total")).toMatch(
      /outcome="failed"} 2/,
    );
  });

  it("two deliverers on one database never send the same event in the same round", async () => {
    const other = await open();
    try {
      const a = await manualDelivery({ owner: "a" });
      const b = await manualDelivery({ owner: "b", store: other });
      for (let i = 0; i < 30; i++) await store.appendEvent(`user_${i}`, { type: "connection.created" });
      const [sentA, sentB] = await Promise.all([a.runOnce(), b.runOnce()]);
      const [againA, againB] = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(sentA + sentB + againA + againB).toBe(30);
      const ids = receiver.deliveries.map((d) => d.headers["webhook-id"]);
      expect(new Set(ids).size).toBe(30);
      expect(ids).toHaveLength(30);
    } finally {
      await other.close();
    }
  });

  it("the background loop delivers on its own and stops cleanly", async () => {
    const delivery = startWebhookDelivery({
      store,
      url: receiver.url,
      secret,
      metrics,
      logger: silentLogger,
      pollIntervalMs: 20,
    });
    await store.appendEvent("user_loop", { type: "connection.recovered" });
    const deadline = Date.now() + 5000;
    while (receiver.deliveries.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await delivery.stop();
    expect(receiver.deliveries).toHaveLength(1);
    expect(verifyWebhook(secret, receiver.deliveries[0]!.headers, receiver.deliveries[0]!.body).type).toBe(
      "connection.recovered",
    );
  });

  it("events outside the configured set never reach the outbox", async () => {
    const delivery = await manualDelivery();
    await store.appendEvent("user_4", { type: "connection.refreshed" });
    expect(await delivery.runOnce()).toBe(0);
    expect(receiver.deliveries).toHaveLength(0);
  });
});

describe("webhook helpers", () => {
  it("backoff is exponential, jittered and capped", () => {
    expect(webhookBackoffMs(1, { random: () => 0 })).toBe(500);
    expect(webhookBackoffMs(1, { random: () => 1 })).toBe(1000);
    expect(webhookBackoffMs(4, { random: () => 1 })).toBe(8000);
    expect(webhookBackoffMs(100, { random: () => 1 })).toBe(60 * 60 * 1000);
    expect(webhookBackoffMs(100, { random: () => 0 })).toBe(30 * 60 * 1000);
    expect(webhookBackoffMs(3, { baseMs: 100, maxMs: 250, random: () => 1 })).toBe(250);
  });

  it("parses AIRLOCK_WEBHOOK_EVENTS", () => {
    expect([...parseWebhookEvents(undefined)].sort()).toEqual([...DEFAULT_WEBHOOK_EVENTS].sort());
    expect(parseWebhookEvents("all").has("connection.refreshed")).toBe(true);
    expect([...parseWebhookEvents("connection.created, connection.refreshed")]).toEqual([
      "connection.created",
      "connection.refreshed",
    ]);
    expect(() => parseWebhookEvents("connection.exploded")).toThrow(/unknown event "connection.exploded"/);
  });

  it("accepts whsec_ secrets and plain base64/hex ones, rejects the rest with a hint", () => {
    expect(parseWebhookSecret(generateWebhookSecret())).toHaveLength(32);
    const hex = randomBytes(32).toString("hex");
    expect(parseWebhookSecret(hex)).toHaveLength(48);
    // The SDK decodes the same way, so a hex secret verifies on both ends.
    const body = JSON.stringify({ type: "connection.created", timestamp: "t", data: { identifier: "x" } });
    const ts = Math.floor(Date.now() / 1000);
    const signature = signWebhook(hex, { id: "e1", timestamp: ts, body });
    const headers = { "webhook-id": "e1", "webhook-timestamp": String(ts), "webhook-signature": signature };
    expect(verifyWebhook(hex, headers, body).id).toBe("e1");
    expect(() => parseWebhookSecret("whsec_!!!")).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
    expect(() => parseWebhookSecret("whsec_c2hvcnQ=")).toThrow(/only 5 bytes/);
  });

  it("payloads carry the identifier and never a token", () => {
    const payload = webhookPayload({
      identifier: "u",
      type: "connection.refreshed",
      createdAt: new Date(0),
      data: { version: 3, access_token: "a", code: "c", client_secret: "s", codeVerifier: "v" },
    });
    expect(payload).toEqual({
      type: "connection.refreshed",
      timestamp: "1970-01-01T00:00:00.000Z",
      data: { version: 3, identifier: "u" },
    });
  });
});

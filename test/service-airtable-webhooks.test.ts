/**
 * Airtable webhooks kept by `airlock serve` (issue 10), in one process against the embedded
 * emulator, on SQLite and PostgreSQL: created with the connection's token, pinged by the emulator
 * at the service's notification URL, payloads fetched and delivered to AIRLOCK_WEBHOOK_URL as
 * signed `airtable.payloads` events; forged and unknown pings refused without an upstream call;
 * a reauth_required connection pauses its webhooks; delete removes them upstream and here.
 */
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhook } from "../src/client/webhooks.js";
import { connect, serviceStores, startTestService, type TestService } from "./security/harness.js";
import { type RecordingServer, startRecordingServer } from "./support/recording-server.js";
import { quietSecond, until } from "./support/until.js";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const SCOPES = "data.records:read data.records:write schema.bases:read webhook:manage user.email:read";
const SPEC = { options: { filters: { dataTypes: ["tableData"] } } };

interface WebhookView {
  id: string;
  status: string;
  airtable_webhook_id: string;
  notification_url: string;
  cursor: number;
  expiration_time: string;
  last_ping_at: string | null;
  delivery: { pending: number; last_error: string | null };
}

interface PayloadsEvent {
  type: string;
  data: {
    identifier: string;
    webhook_id: string;
    cursor: number;
    next_cursor: number;
    payloads: Array<{ changedTablesById?: Record<string, { createdRecordsById?: Record<string, unknown> }> }>;
  };
}

describe.each(serviceStores("service-airtable-webhooks"))(
  "Airtable webhooks kept by the service (%s)",
  (store) => {
    let t: TestService;
    let receiver: RecordingServer;
    let baseId: string;
    const identifier = "hooks_user";

    const events = (): PayloadsEvent[] =>
      receiver.requests
        .map((r) => JSON.parse(r.body) as PayloadsEvent)
        .filter((e) => e.type === "airtable.payloads");
    const api = (path: string, init?: RequestInit) => t.api(path, init);
    const createWebhook = async () => {
      const response = await api(`/v1/connections/${identifier}/airtable-webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ base_id: baseId, specification: SPEC }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      return (await response.json()) as WebhookView;
    };
    const createRecord = async (name: string) => {
      const response = await api(`/v1/proxy/${identifier}/v0/${baseId}/Features`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ fields: { Name: name } }] }),
      });
      expect(response.status, await response.clone().text()).toBe(200);
      return ((await response.json()) as { records: Array<{ id: string }> }).records[0]!.id;
    };
    const apiRequests = () => t.service.emulator!.stats().api_requests;

    beforeAll(async () => {
      receiver = await startRecordingServer(() => ({ status: 204 }));
      t = await startTestService({
        store,
        env: {
          AIRTABLE_SCOPES: SCOPES,
          AIRLOCK_WEBHOOK_URL: `${receiver.url}/hooks`,
          AIRLOCK_WEBHOOK_SECRET: SECRET,
        },
        start: { webhookPollIntervalMs: 50, keepAliveIntervalMs: 200 },
      });
      await connect(t, { identifier });
      const bases = await api(`/v1/proxy/${identifier}/v0/meta/bases`);
      const list = (await bases.json()) as { bases: Array<{ id: string; name: string }> };
      baseId = list.bases.find((b) => b.name === "Product Roadmap")!.id;
    }, 30_000);

    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    it("creates the webhook upstream and delivers a record change as a signed airtable.payloads event", async () => {
      const webhook = await createWebhook();
      expect(webhook).toMatchObject({ status: "active", cursor: 1, delivery: { pending: 0 } });
      expect(webhook.airtable_webhook_id).toMatch(/^ach[A-Za-z0-9]{14}$/);
      expect(webhook.notification_url).toBe(`${t.url}/airtable/notifications/${webhook.id}`);
      expect(Date.parse(webhook.expiration_time)).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
      // The MAC secret is kept, never shown.
      expect(JSON.stringify(webhook)).not.toMatch(/macSecret|mac_secret/);

      const recordId = await createRecord("Hooked feature");
      const event = await until(
        () => events().find((e) => JSON.stringify(e.data.payloads).includes(recordId)),
        "the payload event",
      );
      expect(event.data).toMatchObject({ identifier, webhook_id: webhook.id, cursor: 1, next_cursor: 2 });
      const request = receiver.requests.find((r) => r.body.includes(recordId))!;
      expect(verifyWebhook(SECRET, request.headers as Record<string, string>, request.body).type).toBe(
        "airtable.payloads",
      );

      const listed = await api(`/v1/connections/${identifier}/airtable-webhooks`);
      const [view] = ((await listed.json()) as { airtable_webhooks: WebhookView[] }).airtable_webhooks;
      expect(view).toMatchObject({ id: webhook.id, cursor: 2, status: "active" });
      expect(view!.last_ping_at).not.toBeNull();
    });

    it("refuses a forged or unknown ping without calling Airtable", async () => {
      const [webhook] = (
        (await (await api(`/v1/connections/${identifier}/airtable-webhooks`)).json()) as {
          airtable_webhooks: WebhookView[];
        }
      ).airtable_webhooks;
      const body = JSON.stringify({
        base: { id: baseId },
        webhook: { id: webhook!.airtable_webhook_id },
        timestamp: new Date().toISOString(),
      });
      const before = apiRequests();
      const forged = await fetch(webhook!.notification_url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-airtable-content-mac": `hmac-sha256=${createHmac("sha256", randomBytes(32)).update(body).digest("hex")}`,
        },
        body,
      });
      expect(forged.status).toBe(401);
      const unsigned = await fetch(webhook!.notification_url, { method: "POST", body });
      expect(unsigned.status).toBe(401);
      const unknown = await fetch(`${t.url}/airtable/notifications/awh_${"0".repeat(20)}`, {
        method: "POST",
        body,
      });
      expect(unknown.status).toBe(404);
      await new Promise((r) => setTimeout(r, 300));
      expect(apiRequests()).toBe(before);
    });

    it("answers 409 with the fix when the connection is not active, and lists its webhooks as paused", async () => {
      await t.service.ctx.store.markReauthRequired(
        identifier,
        {
          version: (await t.service.ctx.store.getConnection(identifier))!.version,
          reason: "invalid_grant",
          now: new Date(),
        },
        { type: "connection.reauth_required" },
      );
      const refused = await api(`/v1/connections/${identifier}/airtable-webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ base_id: baseId, specification: SPEC }),
      });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: { hint: string } }).error.hint).toContain(
        "/v1/connect-sessions",
      );
      const listed = (await (await api(`/v1/connections/${identifier}/airtable-webhooks`)).json()) as {
        airtable_webhooks: WebhookView[];
      };
      expect(listed.airtable_webhooks.map((w) => w.status)).toEqual(["paused"]);
      // Reconnecting resumes it.
      await connect(t, { identifier });
      await quietSecond();
      const resumed = (await (await api(`/v1/connections/${identifier}/airtable-webhooks`)).json()) as {
        airtable_webhooks: WebhookView[];
      };
      expect(resumed.airtable_webhooks.map((w) => w.status)).toEqual(["active"]);
      const recordId = await createRecord("After reconnect");
      await until(
        () => events().find((e) => JSON.stringify(e.data.payloads).includes(recordId)),
        "delivery after reconnect",
      );
    });

    it("validates the body and names the problem", async () => {
      const bad = await api(`/v1/connections/${identifier}/airtable-webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ base_id: "nope", specification: { options: { filters: {} } } }),
      });
      expect(bad.status).toBe(400);
      const text = await bad.text();
      expect(text).toContain("base_id");
      expect(text).toContain("dataTypes");
    });

    it("deletes the webhook upstream and here", async () => {
      const listed = (await (await api(`/v1/connections/${identifier}/airtable-webhooks`)).json()) as {
        airtable_webhooks: WebhookView[];
      };
      const webhook = listed.airtable_webhooks[0]!;
      await quietSecond();
      const deleted = await api(`/v1/connections/${identifier}/airtable-webhooks/${webhook.id}`, {
        method: "DELETE",
      });
      expect(deleted.status, await deleted.clone().text()).toBe(204);
      const token = (
        (await (await api(`/v1/connections/${identifier}/access-token`, { method: "POST" })).json()) as {
          access_token: string;
        }
      ).access_token;
      const upstream = await fetch(`${t.service.emulator!.url}/v0/bases/${baseId}/webhooks`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { webhooks } = (await upstream.json()) as { webhooks: Array<{ id: string }> };
      expect(webhooks.map((w) => w.id)).not.toContain(webhook.airtable_webhook_id);
      const again = await api(`/v1/connections/${identifier}/airtable-webhooks/${webhook.id}`, {
        method: "DELETE",
      });
      expect(again.status).toBe(404);
      // Its notification URL is dead now.
      const ping = await fetch(webhook.notification_url, { method: "POST", body: "{}" });
      expect(ping.status).toBe(404);
    });

    it("cleans up a creation that got no answer: the orphan on Airtable, then the row", async () => {
      await quietSecond();
      const token = (
        (await (await api(`/v1/connections/${identifier}/access-token`, { method: "POST" })).json()) as {
          access_token: string;
        }
      ).access_token;
      const id = `awh_${randomBytes(10).toString("hex")}`;
      const notificationUrl = `${t.url}/airtable/notifications/${id}`;
      // What a crash between Airtable's answer and the save leaves: a webhook upstream, a row `creating`.
      const orphan = await fetch(`${t.service.emulator!.url}/v0/bases/${baseId}/webhooks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ notificationUrl, specification: SPEC }),
      });
      expect(orphan.status).toBe(200);
      const orphanId = ((await orphan.json()) as { id: string }).id;
      await t.service.ctx.store.createAirtableWebhook({
        id,
        identifier,
        baseId,
        specification: SPEC,
        notificationUrl,
        now: new Date(Date.now() - 6 * 60_000),
      });
      await until(async () => (await t.service.ctx.store.getAirtableWebhook(id)) === null, "the cleanup");
      const upstream = await fetch(`${t.service.emulator!.url}/v0/bases/${baseId}/webhooks`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { webhooks } = (await upstream.json()) as { webhooks: Array<{ id: string }> };
      expect(webhooks.map((w) => w.id)).not.toContain(orphanId);
    });
  },
);

describe("Airtable webhooks without a receiver", () => {
  it("answers 409 naming AIRLOCK_WEBHOOK_URL", async () => {
    const t = await startTestService({ env: { AIRTABLE_SCOPES: SCOPES } });
    try {
      await connect(t, { identifier: "no_receiver" });
      const response = await t.api("/v1/connections/no_receiver/airtable-webhooks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ base_id: "appABCDEFGHIJKLMN", specification: SPEC }),
      });
      expect(response.status).toBe(409);
      expect(await response.text()).toContain("AIRLOCK_WEBHOOK_URL");
    } finally {
      await t.close();
    }
  });
});

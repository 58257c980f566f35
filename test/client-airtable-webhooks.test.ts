/**
 * The SDK's Airtable webhook methods (issue 10) against a real service in-process (demo mode: the
 * emulator over real HTTP; SQLite, and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set):
 * `createAirtableWebhook`, `listAirtableWebhooks` and `deleteAirtableWebhook` typed and camelCase,
 * the service's refusals as typed errors, and an `airtable.payloads` delivery verified and read
 * through `verifyWebhook`'s typed union. The SDK's types are checked against the service's.
 */

import { randomBytes } from "node:crypto";
import type { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  type AirlockApiError,
  AirlockClient,
  type AirlockWebhookEvent,
  type AirlockWebhookEventType,
  type AirtableWebhook,
  type AirtableWebhookStatus,
  isAirlockError,
  verifyWebhook,
} from "../src/client/index.js";
import type { AirtableWebhookSchema } from "../src/server/airtable-webhooks/schemas.js";
import type { WebhookEventType } from "../src/server/webhooks.js";
import {
  connect,
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";
import { type RecordingServer, startRecordingServer } from "./support/recording-server.js";
import { quietSecond, until } from "./support/until.js";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const SCOPES = "data.records:read data.records:write schema.bases:read webhook:manage user.email:read";
const SPECIFICATION = { options: { filters: { dataTypes: ["tableData" as const] } } };
const identifier = "sdk_hooks_user";

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error as AirlockApiError,
  );

describe("the SDK's types agree with the service's", () => {
  it("knows every event type the service sends, and every webhook status the API answers", () => {
    // Checked by `tsc` (npm run lint): a new event type or status must reach the SDK too.
    expectTypeOf<WebhookEventType>().toEqualTypeOf<AirlockWebhookEventType>();
    expectTypeOf<z.infer<typeof AirtableWebhookSchema>["status"]>().toEqualTypeOf<AirtableWebhookStatus>();
  });
});

describe.each(serviceStores("client-airtable-webhooks"))("SDK Airtable webhooks (%s)", (store) => {
  let t: TestService;
  let receiver: RecordingServer;
  let airlock: AirlockClient;
  let baseId: string;

  /** Every delivery, verified with the SDK, in arrival order. */
  const delivered = (): AirlockWebhookEvent[] =>
    receiver.requests.map((r) => verifyWebhook(SECRET, r.headers, r.body));

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
    airlock = new AirlockClient({ baseUrl: t.url, secretKey: SECRET_KEY });
    await connect(t, { identifier });
    const bases = (await (await airlock.request(identifier, "/v0/meta/bases")).json()) as {
      bases: Array<{ id: string; name: string }>;
    };
    baseId = bases.bases.find((b) => b.name === "Product Roadmap")!.id;
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("creates a webhook and reads it back typed, with Dates", async () => {
    const webhook = await airlock.createAirtableWebhook(identifier, { baseId, specification: SPECIFICATION });
    expectTypeOf(webhook).toEqualTypeOf<AirtableWebhook>();
    expect(webhook).toMatchObject({
      identifier,
      baseId,
      status: "active",
      specification: SPECIFICATION,
      cursor: 1,
      lastPingAt: null,
      lastError: null,
      delivery: { pending: 0, lastError: null },
    });
    expect(webhook.id).toMatch(/^awh_[0-9a-f]{20}$/);
    expect(webhook.airtableWebhookId).toMatch(/^ach[A-Za-z0-9]{14}$/);
    expect(webhook.notificationUrl).toBe(`${t.url}/airtable/notifications/${webhook.id}`);
    expect(webhook.createdAt).toBeInstanceOf(Date);
    expect(webhook.expirationTime!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    const listed = await airlock.listAirtableWebhooks(identifier);
    expect(listed).toEqual([webhook]);
  });

  it("delivers a change as an airtable.payloads event whose data the SDK types", async () => {
    const [webhook] = await airlock.listAirtableWebhooks(identifier);
    await quietSecond();
    const created = await airlock.request(identifier, `/v0/${baseId}/Features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ fields: { Name: "Seen by the SDK" } }] }),
    });
    expect(created.status, await created.clone().text()).toBe(200);
    const recordId = ((await created.json()) as { records: Array<{ id: string }> }).records[0]!.id;

    const event = await until(
      () =>
        delivered().find((e) => e.type === "airtable.payloads" && JSON.stringify(e.data).includes(recordId)),
      "the airtable.payloads event",
    );
    if (event.type !== "airtable.payloads") throw new Error(`unexpected ${event.type}`);
    expect(event.data).toMatchObject({
      identifier,
      webhook_id: webhook!.id,
      airtable_webhook_id: webhook!.airtableWebhookId,
      base_id: baseId,
      cursor: 1,
      next_cursor: 2,
    });
    expect(event.data.payloads).toHaveLength(1);
    expect(event.data.payloads[0]!.baseTransactionNumber).toEqual(expect.any(Number));
    expect(Object.keys(event.data.payloads[0]!.changedTablesById ?? {})).toHaveLength(1);

    // Once delivered, the list says so: the cursor moved on and nothing is pending.
    const after = await until(async () => {
      const [view] = await airlock.listAirtableWebhooks(identifier);
      return view && view.cursor === 2 && view.delivery.pending === 0 ? view : null;
    }, "the webhook's cursor and delivery");
    expect(after.lastPingAt).toBeInstanceOf(Date);
    expect(after.lastFetchAt).toBeInstanceOf(Date);
  });

  it("throws the service's refusals as typed errors", async () => {
    const unknown = await failure(
      airlock.createAirtableWebhook("sdk_nobody", { baseId, specification: SPECIFICATION }),
    );
    expect(unknown).toMatchObject({ code: "not_found", status: 404 });
    expect(await failure(airlock.listAirtableWebhooks("sdk_nobody"))).toMatchObject({
      code: "not_found",
      status: 404,
    });

    const invalid = await failure(
      airlock.createAirtableWebhook(identifier, { baseId: "nope", specification: SPECIFICATION }),
    );
    expect(invalid).toMatchObject({ code: "invalid_input", status: 400 });
    expect(invalid.message + JSON.stringify(invalid.details)).toContain("base_id");

    const missing = await failure(airlock.deleteAirtableWebhook(identifier, `awh_${"0".repeat(20)}`));
    expect(missing).toMatchObject({ code: "not_found", status: 404 });
    expect(missing.hint).toContain(`/v1/connections/${identifier}/airtable-webhooks`);

    const requests = receiver.requests.length;
    const empty = await failure(airlock.deleteAirtableWebhook(identifier, ""));
    expect(isAirlockError(empty, "invalid_input")).toBe(true);
    expect(receiver.requests.length).toBe(requests);
  });

  it("deletes the webhook: gone from the list, and a second delete is not_found", async () => {
    const [webhook] = await airlock.listAirtableWebhooks(identifier);
    await quietSecond();
    await airlock.deleteAirtableWebhook(identifier, webhook!.id);
    expect(await airlock.listAirtableWebhooks(identifier)).toEqual([]);
    expect(await failure(airlock.deleteAirtableWebhook(identifier, webhook!.id))).toMatchObject({
      code: "not_found",
    });
  });
});

describe("SDK Airtable webhooks on a service without a receiver", () => {
  it("throws conflict with a hint naming AIRLOCK_WEBHOOK_URL", async () => {
    const t = await startTestService({ env: { AIRTABLE_SCOPES: SCOPES }, start: { keepAlive: false } });
    try {
      await connect(t, { identifier: "sdk_no_receiver" });
      const airlock = new AirlockClient({ baseUrl: t.url, secretKey: SECRET_KEY });
      const refused = await failure(
        airlock.createAirtableWebhook("sdk_no_receiver", {
          baseId: "appABCDEFGHIJKLMN",
          specification: SPECIFICATION,
        }),
      );
      expect(refused).toMatchObject({ code: "conflict", status: 409, retryable: false });
      expect(`${refused.message} ${refused.hint}`).toContain("AIRLOCK_WEBHOOK_URL");
    } finally {
      await t.close();
    }
  });
});

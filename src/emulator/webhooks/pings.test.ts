import { createHmac } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BaseChange, RecordSnapshot } from "../changes.js";
import { createSampleData } from "../sample-data.js";
import { loginAutoApproved } from "../testing.js";
import { webhookHubFor } from "./hub.js";
import { call, type PingReceiver, startReceiver, startTestEmulator, type TestEmulator } from "./test-bed.js";

const data = createSampleData();
const roadmap = data.bases[0]!;
const [features, other] = roadmap.tables as [(typeof roadmap.tables)[0], (typeof roadmap.tables)[0]];
const [nameField, notesField] = features.fields as [(typeof features.fields)[0], (typeof features.fields)[0]];
const hooks = `/v0/bases/${roadmap.id}/webhooks`;
const API_SOURCE = { userId: data.user.id, clientId: "airlock-emulator-client" };

let emulator: TestEmulator;
let receiver: PingReceiver;
let token: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  receiver = await startReceiver();
  token = (await loginAutoApproved(emulator.url, "webhook:manage data.records:read schema.bases:read"))
    .access_token;
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(() => {
  const hub = webhookHubFor(emulator.state);
  for (const hook of hub.list(roadmap.id, emulator.state.config.clientId)) hub.delete(hook);
  receiver.pings.length = 0;
  receiver.answer(204);
  emulator.state.clock.advance(31);
});

const snapshot = (id: string, cells: Record<string, unknown>): RecordSnapshot => ({
  id,
  createdTime: "2024-01-15T09:00:00.000Z",
  cellValuesByFieldId: cells,
});
const created = (tableId = features.id): BaseChange => ({
  kind: "records.created",
  baseId: roadmap.id,
  tableId,
  records: [snapshot("recAAAAAAAAAAAAAA", { [nameField.id]: "New" })],
});

async function createHook(filters: Record<string, unknown>, url: string | null = receiver.url) {
  const body = { ...(url ? { notificationUrl: url } : {}), specification: { options: { filters } } };
  const { status, json } = await call(emulator, "POST", hooks, token, body);
  if (status !== 200) throw new Error(`create failed: ${JSON.stringify(json)}`);
  return { id: String(json.id), secret: Buffer.from(String(json.macSecretBase64), "base64") };
}

async function emit(change: BaseChange, source = API_SOURCE): Promise<void> {
  emulator.state.changes.emit(change, source);
  await webhookHubFor(emulator.state).settled();
}

async function payloads(id: string, query = "") {
  return (await call(emulator, "GET", `${hooks}/${id}/payloads${query}`, token)).json;
}

describe("pings", () => {
  it("POSTs {base, webhook, timestamp} signed with HMAC-SHA256 of the raw body under the MAC secret", async () => {
    const hook = await createHook({ dataTypes: ["tableData"] });
    await emit(created());
    expect(receiver.pings).toHaveLength(1);
    const [ping] = receiver.pings;
    expect(JSON.parse(ping!.rawBody)).toEqual({
      base: { id: roadmap.id },
      webhook: { id: hook.id },
      timestamp: expect.any(String),
    });
    const mac = createHmac("sha256", hook.secret).update(ping!.rawBody).digest("hex");
    expect(ping!.headers["x-airtable-content-mac"]).toBe(`hmac-sha256=${mac}`);
  });

  it("only for changes the specification watches: dataTypes and recordChangeScope", async () => {
    await createHook({ dataTypes: ["tableFields"] });
    await createHook({ dataTypes: ["tableData"], recordChangeScope: other.id });
    await emit(created(features.id));
    expect(receiver.pings).toHaveLength(0);
  });

  it("records a success in lastNotificationResult and lastSuccessfulNotificationTime", async () => {
    await createHook({ dataTypes: ["tableData"] });
    await emit(created());
    const { json } = await call(emulator, "GET", hooks, token);
    expect(json.webhooks).toEqual([
      expect.objectContaining({
        lastNotificationResult: {
          success: true,
          completionTimestamp: expect.any(String),
          durationMs: expect.any(Number),
          retryNumber: 0,
        },
        lastSuccessfulNotificationTime: expect.any(String),
      }),
    ]);
  });

  it("records a failed delivery (receiver answers 500) in lastNotificationResult", async () => {
    receiver.answer(500);
    await createHook({ dataTypes: ["tableData"] });
    await emit(created());
    const { json } = await call(emulator, "GET", hooks, token);
    expect(json.webhooks).toEqual([
      expect.objectContaining({
        lastNotificationResult: expect.objectContaining({
          success: false,
          error: { message: expect.stringContaining("500") },
          willBeRetried: false,
        }),
        lastSuccessfulNotificationTime: null,
      }),
    ]);
  });

  it("none while notifications are disabled, but the payload is still kept", async () => {
    const hook = await createHook({ dataTypes: ["tableData"] });
    await call(emulator, "POST", `${hooks}/${hook.id}/enableNotifications`, token, { enable: false });
    await emit(created());
    expect(receiver.pings).toHaveLength(0);
    expect((await payloads(hook.id)).payloads).toHaveLength(1);
  });

  it("none, and no payload, once the webhook has expired", async () => {
    const hook = await createHook({ dataTypes: ["tableData"] });
    emulator.state.clock.advance(7 * 86_400);
    await emit(created());
    expect(receiver.pings).toHaveLength(0);
    expect((await payloads(hook.id)).payloads).toEqual([]);
  });
});

describe("control API: POST /__emulator/webhooks/:id/ping", () => {
  const ping = (id: string) => fetch(`${emulator.url}/__emulator/webhooks/${id}/ping`, { method: "POST" });

  it("pings the notificationUrl now and answers with the result", async () => {
    const hook = await createHook({ dataTypes: ["tableData"] });
    const res = await ping(hook.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      webhook_id: hook.id,
      notification: expect.objectContaining({ success: true }),
    });
    expect(receiver.pings).toHaveLength(1);
  });

  it("refuses an unknown id (404) and a webhook without a notificationUrl (409)", async () => {
    expect((await ping("achAAAAAAAAAAAAAA")).status).toBe(404);
    const silent = await createHook({ dataTypes: ["tableData"] }, null);
    expect((await ping(silent.id)).status).toBe(409);
  });
});

describe("payloads", () => {
  it("are in Airtable's shape, numbered by the base's transactions, with cursors", async () => {
    const hook = await createHook({ dataTypes: ["tableData"] }, null);
    await emit(created());
    await emit({
      kind: "records.destroyed",
      baseId: roadmap.id,
      tableId: features.id,
      recordIds: ["recAAAAAAAAAAAAAA"],
    });
    const first = await payloads(hook.id, "?limit=1");
    expect(first).toEqual({
      payloads: [
        {
          timestamp: expect.any(String),
          baseTransactionNumber: expect.any(Number),
          actionMetadata: {
            source: "publicApi",
            sourceMetadata: {
              user: {
                id: data.user.id,
                email: data.user.email,
                name: data.user.name,
                permissionLevel: "create",
              },
            },
          },
          payloadFormat: "v0",
          changedTablesById: {
            [features.id]: {
              createdRecordsById: {
                recAAAAAAAAAAAAAA: {
                  createdTime: "2024-01-15T09:00:00.000Z",
                  cellValuesByFieldId: { [nameField.id]: "New" },
                },
              },
            },
          },
        },
      ],
      cursor: 2,
      mightHaveMore: true,
    });
    const second = await payloads(hook.id, "?cursor=2");
    expect(second).toMatchObject({ cursor: 3, mightHaveMore: false });
    const transactionOf = (page: Record<string, unknown>) =>
      z.array(z.object({ baseTransactionNumber: z.number() })).parse(page.payloads)[0];
    const [a, b] = [transactionOf(first), transactionOf(second)];
    expect(b!.baseTransactionNumber).toBe(a!.baseTransactionNumber + 1);
    expect(second.payloads).toEqual([
      expect.objectContaining({
        changedTablesById: { [features.id]: { destroyedRecordIds: ["recAAAAAAAAAAAAAA"] } },
      }),
    ]);
    const { json } = await call(emulator, "GET", hooks, token);
    expect(json.webhooks).toEqual([expect.objectContaining({ cursorForNextPayload: 3 })]);
  });

  it("changed records carry current values, and previous/unchanged only when included", async () => {
    const filters = { dataTypes: ["tableData"] };
    const plain = await createHook(filters, null);
    const body = {
      specification: {
        options: {
          filters,
          includes: { includePreviousCellValues: true, includeCellValuesInFieldIds: [nameField.id] },
        },
      },
    };
    const rich = (await call(emulator, "POST", hooks, token, body)).json;
    const before = snapshot("recBBBBBBBBBBBBBB", { [nameField.id]: "A", [notesField.id]: "old" });
    const after = snapshot("recBBBBBBBBBBBBBB", { [nameField.id]: "A", [notesField.id]: "new" });
    await emit({
      kind: "records.changed",
      baseId: roadmap.id,
      tableId: features.id,
      changes: [{ before, after }],
    });
    const payloadSchema = z.object({
      changedTablesById: z.record(z.string(), z.object({ changedRecordsById: z.unknown() })),
    });
    const changedOf = (json: Record<string, unknown>) =>
      z.array(payloadSchema).parse(json.payloads)[0]?.changedTablesById[features.id]?.changedRecordsById;
    expect(changedOf(await payloads(plain.id))).toEqual({
      recBBBBBBBBBBBBBB: { current: { cellValuesByFieldId: { [notesField.id]: "new" } } },
    });
    expect(changedOf(await payloads(String(rich.id)))).toEqual({
      recBBBBBBBBBBBBBB: {
        current: { cellValuesByFieldId: { [notesField.id]: "new" } },
        previous: { cellValuesByFieldId: { [notesField.id]: "old" } },
        unchanged: { cellValuesByFieldId: { [nameField.id]: "A" } },
      },
    });
  });

  it("schema changes reach tableFields and tableMetadata webhooks", async () => {
    const fields = await createHook({ dataTypes: ["tableFields"] }, null);
    const metadata = await createHook({ dataTypes: ["tableMetadata"] }, null);
    await emit({ kind: "field.created", baseId: roadmap.id, tableId: features.id, fieldId: notesField.id });
    await emit({ kind: "table.changed", baseId: roadmap.id, tableId: features.id });
    expect((await payloads(fields.id)).payloads).toEqual([
      expect.objectContaining({
        changedTablesById: {
          [features.id]: {
            createdFieldsById: { [notesField.id]: { name: notesField.name, type: notesField.type } },
          },
        },
      }),
    ]);
    expect((await payloads(metadata.id)).payloads).toEqual([
      expect.objectContaining({
        changedTablesById: {
          [features.id]: {
            changedMetadata: { current: { name: features.name, description: features.description ?? "" } },
          },
        },
      }),
    ]);
  });
});

describe("end to end through the records API", () => {
  it("a record created over /v0 makes a payload and a signed ping", async () => {
    const writer = (await loginAutoApproved(emulator.url, "data.records:write")).access_token;
    const hook = await createHook({ dataTypes: ["tableData"], recordChangeScope: features.id });
    const body = { records: [{ fields: { [nameField.name]: "Webhook test" } }] };
    const write = await call(emulator, "POST", `/v0/${roadmap.id}/${features.id}`, writer, body);
    expect(write.status).toBe(200);
    const [record] = z.array(z.object({ id: z.string() })).parse(write.json.records);
    await webhookHubFor(emulator.state).settled();
    expect(receiver.pings).toHaveLength(1);
    const mac = createHmac("sha256", hook.secret).update(receiver.pings[0]!.rawBody).digest("hex");
    expect(receiver.pings[0]!.headers["x-airtable-content-mac"]).toBe(`hmac-sha256=${mac}`);
    const { payloads: listed } = await payloads(hook.id);
    expect(listed).toEqual([
      expect.objectContaining({
        actionMetadata: expect.objectContaining({ source: "publicApi" }),
        changedTablesById: {
          [features.id]: {
            createdRecordsById: {
              [record!.id]: {
                createdTime: expect.any(String),
                cellValuesByFieldId: expect.objectContaining({ [nameField.id]: "Webhook test" }),
              },
            },
          },
        },
      }),
    ]);
  });
});

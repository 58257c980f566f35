/**
 * The webhook methods of AirtableApi against the emulator over real HTTP: the whole life of a
 * webhook (create, list, pings, payload pages, refresh, notifications off, delete), the errors the
 * service relies on (404 for a gone webhook, 422 for an expired one, 403 without the scope) and the
 * checks made before any request.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { failure } from "../../test/support/airlock-error.js";
import { loginAutoApproved, type RunningEmulator, startEmulator } from "../emulator/index.js";
import { type PingReceiver, startReceiver } from "../emulator/webhooks/test-bed.js";
import { type AccessTokenSource, AirtableApi, type AirtableTable } from "./api.js";

const SCOPES = "webhook:manage data.records:read data.records:write schema.bases:read";
const DAY_MS = 86_400_000;
const tableData = { options: { filters: { dataTypes: ["tableData"] } } };

let emulator: RunningEmulator;
let receiver: PingReceiver;
let token: string;
/** One client for the file, so its per-base pacing sees every request it makes. */
let api: AirtableApi;
let baseId: string;
let table: AirtableTable;
/** Every request the clients sent, to check what goes on the wire. */
let sent: { method: string; path: string; headers: Headers; body: string | undefined }[];

/** How far the test moved the emulator's clock, in ms. */
let advancedMs = 0;

/** Moves the emulator's clock; the clients' clock follows it. */
function advance(seconds: number): void {
  emulator.advanceClock(seconds);
  advancedMs += seconds * 1000;
}

/**
 * A client on the emulator's clock: its pacing and any wait a 429 asks for pass on that clock at
 * once, so a slow machine neither trips the per-base limit nor waits out a real 30 seconds.
 */
function client(accessToken: AccessTokenSource = token): AirtableApi {
  return new AirtableApi({
    accessToken,
    apiUrl: emulator.url,
    now: () => Date.now() + advancedMs,
    sleep: async (ms) => advance(ms / 1000),
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      sent.push({
        method: init?.method ?? "GET",
        path: url.pathname + url.search,
        headers: new Headers(init?.headers),
        body: typeof init?.body === "string" ? init.body : undefined,
      });
      return fetch(input, init);
    },
  });
}

/** Creates a record with a plain fetch, as any other Web API client would. */
async function writeRecord(name: string): Promise<string> {
  // Unpaced writes get a second of their own on the base, before and after.
  advance(1);
  const res = await fetch(`${emulator.url}/v0/${baseId}/${table.id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ fields: { [table.fields[0]!.name]: name } }),
  });
  expect(res.status).toBe(200);
  advance(1);
  return z.object({ id: z.string() }).parse(await res.json()).id;
}

/** Waits (up to 2 s) for the receiver to hold `count` pings: Airtable pings after the write answers. */
async function pingsReach(count: number): Promise<void> {
  for (let i = 0; i < 100 && receiver.pings.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  expect(receiver.pings).toHaveLength(count);
}

beforeAll(async () => {
  // Tokens outlive the week the expiry test moves the clock by.
  emulator = await startEmulator({ autoApprove: true, accessTokenTtl: 365 * 86_400 });
  receiver = await startReceiver();
  token = (await loginAutoApproved(emulator.url, SCOPES)).access_token;
  sent = [];
  api = client();
  const bases = await api.listBases();
  baseId = bases.find((b) => b.permissionLevel === "create")!.id;
  table = (await api.getBaseSchema(baseId)).tables[0]!;
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(async () => {
  // An integration may hold only 2 webhooks per base: start every test with none.
  for (const hook of (await api.listWebhooks(baseId)).webhooks) await api.deleteWebhook(baseId, hook.id);
  // Unpaced clients (other tokens) and plain fetches then start with the base's second to themselves.
  advance(1);
  sent = [];
  receiver.pings.length = 0;
});

describe("AirtableApi webhooks against the emulator", () => {
  it("create → list → ping → payload pages → refresh → notifications off → delete", async () => {
    const created = await api.createWebhook(baseId, {
      notificationUrl: receiver.url,
      specification: tableData,
    });
    expect(created.id).toMatch(/^ach[A-Za-z0-9]{14}$/);
    const secret = Buffer.from(created.macSecretBase64, "base64");
    expect(secret.length).toBeGreaterThan(0);
    expect(Date.parse(created.expirationTime!)).toBeGreaterThan(Date.now() + 6 * DAY_MS);
    expect(sent[0]).toMatchObject({ method: "POST", path: `/v0/bases/${baseId}/webhooks` });
    expect(sent[0]!.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(sent[0]!.body!)).toEqual({ notificationUrl: receiver.url, specification: tableData });

    expect((await api.listWebhooks(baseId)).webhooks).toEqual([
      expect.objectContaining({
        id: created.id,
        areNotificationsEnabled: true,
        cursorForNextPayload: 1,
        isHookEnabled: true,
        notificationUrl: receiver.url,
        expirationTime: created.expirationTime,
        specification: tableData,
        lastNotificationResult: null,
      }),
    ]);

    // A write pings the notificationUrl, signed with the MAC secret; the payload waits at cursor 1.
    const first = await writeRecord("First");
    await pingsReach(1);
    const ping = receiver.pings[0]!;
    const mac = createHmac("sha256", secret).update(ping.rawBody).digest("hex");
    expect(ping.headers["x-airtable-content-mac"]).toBe(`hmac-sha256=${mac}`);
    const page1 = await api.listWebhookPayloads(baseId, created.id);
    expect(page1).toMatchObject({ cursor: 2, mightHaveMore: false });
    expect(page1.payloads).toHaveLength(1);
    expect(page1.payloads[0]).toMatchObject({
      payloadFormat: "v0",
      baseTransactionNumber: expect.any(Number),
      // Keys the client does not model are kept whole.
      changedTablesById: { [table.id]: { createdRecordsById: { [first]: expect.any(Object) } } },
    });

    // Two more writes: a page of one says there is more; the cursor moves one page at a time.
    await writeRecord("Second");
    await writeRecord("Third");
    await pingsReach(3);
    const page2 = await api.listWebhookPayloads(baseId, created.id, { cursor: page1.cursor, limit: 1 });
    expect(page2).toMatchObject({ cursor: 3, mightHaveMore: true });
    expect(page2.payloads).toHaveLength(1);
    const page3 = await api.listWebhookPayloads(baseId, created.id, { cursor: page2.cursor, limit: 50 });
    expect(page3).toMatchObject({ cursor: 4, mightHaveMore: false });
    expect(page3.payloads).toHaveLength(1);
    expect(await api.listWebhookPayloads(baseId, created.id, { cursor: 4 })).toEqual({
      payloads: [],
      cursor: 4,
      mightHaveMore: false,
    });
    expect(sent.at(-2)!.path).toBe(`/v0/bases/${baseId}/webhooks/${created.id}/payloads?cursor=3&limit=50`);
    expect((await api.listWebhooks(baseId)).webhooks[0]!.cursorForNextPayload).toBe(4);

    // A refresh an hour later moves the expiry by that hour.
    const before = (await api.listWebhooks(baseId)).webhooks[0]!.expirationTime!;
    advance(3600);
    const refreshed = await api.refreshWebhook(baseId, created.id);
    expect(Date.parse(refreshed.expirationTime!)).toBeGreaterThanOrEqual(Date.parse(before) + 3600_000);
    expect(sent.at(-1)).toMatchObject({ method: "POST", body: undefined });
    expect(sent.at(-1)!.headers.get("content-type")).toBeNull();

    // Notifications off: no ping for the next write, yet its payload is kept.
    await api.enableWebhookNotifications(baseId, created.id, false);
    expect(JSON.parse(sent.at(-1)!.body!)).toEqual({ enable: false });
    expect((await api.listWebhooks(baseId)).webhooks[0]!.areNotificationsEnabled).toBe(false);
    await writeRecord("Silent");
    expect((await api.listWebhookPayloads(baseId, created.id, { cursor: 4 })).payloads).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.pings).toHaveLength(3);
    await api.enableWebhookNotifications(baseId, created.id, true);
    expect((await api.listWebhooks(baseId)).webhooks[0]!.areNotificationsEnabled).toBe(true);

    await api.deleteWebhook(baseId, created.id);
    expect(sent.at(-1)).toMatchObject({ method: "DELETE", body: undefined });
    expect(await api.listWebhooks(baseId)).toEqual({ webhooks: [] });

    // Gone upstream: refresh, payloads and delete all answer 404 NOT_FOUND, which the service maps.
    // One at a time: a call started early would reject before anything awaits it.
    for (const call of [
      () => api.refreshWebhook(baseId, created.id),
      () => api.listWebhookPayloads(baseId, created.id),
      () => api.deleteWebhook(baseId, created.id),
    ]) {
      const err = await failure(call());
      expect(err.code).toBe("api_error");
      expect(err.details).toEqual({ status: 404, type: "NOT_FOUND" });
      expect(err.hint).toContain("listWebhooks(baseId)");
    }
    // Paced per base like every other call: the emulator never had to refuse one.
    expect(emulator.stats().rate_limited).toBe(0);
  });

  it("a webhook that never existed answers 404 too", async () => {
    const err = await failure(api.refreshWebhook(baseId, "achAAAAAAAAAAAAAA"));
    expect(err.code).toBe("api_error");
    expect(err.details).toMatchObject({ status: 404 });
    expect(err.retryable).toBe(false);
  });

  it("an expired webhook cannot be refreshed: 422 with Airtable's error type", async () => {
    const { id } = await api.createWebhook(baseId, { specification: tableData });
    advance(7 * 86_400 + 1);
    const [hook] = (await api.listWebhooks(baseId)).webhooks;
    expect(hook).toMatchObject({
      id,
      isHookEnabled: false,
      notificationUrl: null,
      areNotificationsEnabled: false,
    });
    const err = await failure(api.refreshWebhook(baseId, id));
    expect(err.code).toBe("api_error");
    expect(err.details).toEqual({ status: 422, type: "INVALID_REQUEST_UNKNOWN" });
    expect(err.hint).toContain("create a new one");
  });

  it("a specification Airtable refuses is a 422 api_error naming the problem", async () => {
    const err = await failure(
      api.createWebhook(baseId, {
        specification: {
          options: { filters: { dataTypes: ["tableData"], recordChangeScope: "tblAAAAAAAAAAAAAA" } },
        },
      }),
    );
    expect(err.code).toBe("api_error");
    expect(err.details).toMatchObject({ status: 422, type: expect.any(String) });
    expect(err.message).toContain("POST /v0/bases/");
  });

  it("without webhook:manage: 403 whose hint names the scope", async () => {
    const { access_token } = await loginAutoApproved(emulator.url, "data.records:read schema.bases:read");
    const err = await failure(client(access_token).listWebhooks(baseId));
    expect(err.code).toBe("api_error");
    expect(err.details).toMatchObject({ status: 403 });
    expect(err.hint).toContain("webhook:manage");
  });

  it("a POST is sent again, body and all, after a 401 and after a 503", async () => {
    let calls = 0;
    const refreshing = client(async (options) => {
      calls++;
      return options?.forceRefresh ? token : "stale-token";
    });
    const { id } = await refreshing.createWebhook(baseId, { specification: tableData });
    expect(calls).toBe(2);
    expect(sent.map((s) => s.body)).toEqual([sent[0]!.body, sent[0]!.body]);

    const faults = await fetch(`${emulator.url}/__emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ api: { status: 503, count: 1, retry_after: 0 } }),
    });
    expect(faults.status).toBe(200);
    expect((await api.refreshWebhook(baseId, id)).expirationTime).toEqual(expect.any(String));
    expect(sent.slice(-2).map((s) => s.path)).toEqual([
      `/v0/bases/${baseId}/webhooks/${id}/refresh`,
      `/v0/bases/${baseId}/webhooks/${id}/refresh`,
    ]);
  });

  it("checks ids, cursor, limit, URL and specification before any request", async () => {
    const hook = "achAAAAAAAAAAAAAA";
    const bad: [Promise<unknown>, string][] = [
      [api.listWebhooks("appShort"), "base id"],
      [api.createWebhook("../v0/meta", { specification: tableData }), "base id"],
      [api.refreshWebhook(baseId, "recAAAAAAAAAAAAAA"), "webhook id"],
      [api.deleteWebhook(baseId, "ach/../../x"), "webhook id"],
      [api.enableWebhookNotifications(baseId, "achShort", true), "webhook id"],
      [api.listWebhookPayloads(baseId, hook, { cursor: 0 }), "cursor"],
      [api.listWebhookPayloads(baseId, hook, { cursor: 1.5 }), "cursor"],
      [api.listWebhookPayloads(baseId, hook, { limit: 0 }), "limit"],
      [api.listWebhookPayloads(baseId, hook, { limit: 51 }), "limit"],
      [
        api.createWebhook(baseId, { notificationUrl: "ftp://example.com", specification: tableData }),
        "notificationUrl",
      ],
      // What a JavaScript caller could pass: no options at all.
      [api.createWebhook(baseId, { specification: {} as never }), "specification"],
    ];
    for (const [call, named] of bad) {
      const err = await failure(call);
      expect(err.code).toBe("invalid_input");
      expect(err.message).toContain(named);
      expect(err.hint).toBeTruthy();
    }
    expect(sent).toEqual([]);
  });
});

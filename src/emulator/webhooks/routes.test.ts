import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSampleData } from "../sample-data.js";
import { loginAutoApproved } from "../testing.js";
import { webhookHubFor } from "./hub.js";
import { call, startTestEmulator, type TestEmulator } from "./test-bed.js";

const data = createSampleData();
const [roadmap, crm] = data.bases as [(typeof data.bases)[0], (typeof data.bases)[0]];
const features = roadmap.tables[0]!;
const DAY = 86_400;
const SPEC = { options: { filters: { dataTypes: ["tableData"], recordChangeScope: features.id } } };
const PERMISSION_ERROR = {
  error: { type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", message: expect.any(String) },
};

let emulator: TestEmulator;
let token: string;
const hooks = (baseId = roadmap.id) => `/v0/bases/${baseId}/webhooks`;

beforeAll(async () => {
  emulator = await startTestEmulator();
  token = (await loginAutoApproved(emulator.url, "webhook:manage data.records:read schema.bases:read"))
    .access_token;
});
afterAll(() => emulator.close());
beforeEach(async () => {
  for (const hook of webhookHubFor(emulator.state).list(roadmap.id, emulator.state.config.clientId))
    webhookHubFor(emulator.state).delete(hook);
  emulator.state.clock.advance(31);
});

/** An expirationTime 7 days after a request made between `before` and now (emulator clock). */
function expectSevenDaysFrom(expirationTime: string, before: number): void {
  const expires = Date.parse(expirationTime);
  expect(expires).toBeGreaterThan(before + 7 * DAY * 1000);
  expect(expires).toBeLessThanOrEqual(emulator.state.clock.now() + 7 * DAY * 1000);
}

async function create(body: unknown = { specification: SPEC }, bearer = token) {
  return call(emulator, "POST", hooks(), bearer, body);
}

describe("create and list", () => {
  it("answers id, macSecretBase64 and an expirationTime 7 days from now", async () => {
    const before = emulator.state.clock.now();
    const { status, json } = await create({
      notificationUrl: "https://example.com/ping",
      specification: SPEC,
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^ach[A-Za-z0-9]{14}$/),
      macSecretBase64: expect.any(String),
      expirationTime: expect.any(String),
    });
    expect(Buffer.from(String(json.macSecretBase64), "base64").length).toBe(32);
    expectSevenDaysFrom(String(json.expirationTime), before);
  });

  it("lists the webhook in Airtable's shape, without the MAC secret", async () => {
    const { json: created } = await create({
      notificationUrl: "https://example.com/ping",
      specification: SPEC,
    });
    const { status, json } = await call(emulator, "GET", hooks(), token);
    expect(status).toBe(200);
    expect(json).toEqual({
      webhooks: [
        {
          id: created.id,
          areNotificationsEnabled: true,
          cursorForNextPayload: 1,
          isHookEnabled: true,
          lastNotificationResult: null,
          lastSuccessfulNotificationTime: null,
          notificationUrl: "https://example.com/ping",
          expirationTime: created.expirationTime,
          specification: SPEC,
        },
      ],
    });
  });

  it("without a notificationUrl: null, notifications off", async () => {
    await create();
    const { json } = await call(emulator, "GET", hooks(), token);
    expect(json.webhooks).toEqual([
      expect.objectContaining({ notificationUrl: null, areNotificationsEnabled: false }),
    ]);
  });

  it.each([
    ["no specification", {}],
    ["empty dataTypes", { specification: { options: { filters: { dataTypes: [] } } } }],
    ["an unknown dataType", { specification: { options: { filters: { dataTypes: ["records"] } } } }],
    [
      "an unknown filter key",
      { specification: { options: { filters: { dataTypes: ["tableData"], colour: 1 } } } },
    ],
    [
      "a notificationUrl that is not http(s)",
      { notificationUrl: "ftp://example.com/x", specification: SPEC },
    ],
    [
      "a table that is not in the base",
      {
        specification: {
          options: { filters: { dataTypes: ["tableData"], recordChangeScope: crm.tables[0]!.id } },
        },
      },
    ],
    [
      "an unknown field id",
      {
        specification: {
          options: { filters: { dataTypes: ["tableData"], watchDataInFieldIds: ["fldAAAAAAAAAAAAAA"] } },
        },
      },
    ],
    [
      "a view scope (not emulated)",
      {
        specification: {
          options: { filters: { dataTypes: ["tableData"], recordChangeScope: features.views[0]!.id } },
        },
      },
    ],
    ["a body that is not JSON", "{not json"],
  ])("refuses %s with 422 INVALID_REQUEST_UNKNOWN", async (_name, body) => {
    const { status, json } = await create(body);
    expect(status).toBe(422);
    expect(json).toEqual({ error: { type: "INVALID_REQUEST_UNKNOWN", message: expect.any(String) } });
  });
});

describe("who may", () => {
  it("needs webhook:manage (403)", async () => {
    const other = await loginAutoApproved(emulator.url, "data.records:read schema.bases:read");
    expect(await call(emulator, "GET", hooks(), other.access_token)).toEqual({
      status: 403,
      json: PERMISSION_ERROR,
    });
  });

  it("create needs data.records:read for tableData and schema.bases:read for tableFields", async () => {
    const manageOnly = (await loginAutoApproved(emulator.url, "webhook:manage")).access_token;
    expect((await create({ specification: SPEC }, manageOnly)).status).toBe(403);
    const fields = { specification: { options: { filters: { dataTypes: ["tableFields"] } } } };
    const recordsOnly = (await loginAutoApproved(emulator.url, "webhook:manage data.records:read"))
      .access_token;
    expect(await create(fields, recordsOnly)).toEqual({ status: 403, json: PERMISSION_ERROR });
  });

  it("create needs the user to be a creator of the base (403 on an editor's base)", async () => {
    const { status, json } = await call(emulator, "POST", hooks(crm.id), token, {
      specification: { options: { filters: { dataTypes: ["tableData"] } } },
    });
    expect({ status, json }).toEqual({ status: 403, json: PERMISSION_ERROR });
  });

  it("an integration never sees another's webhooks: not listed, 404 by id", async () => {
    const theirs = webhookHubFor(emulator.state).create({
      baseId: roadmap.id,
      owner: "another-integration",
      notificationUrl: null,
      specification: { options: { filters: { dataTypes: ["tableData"] } } },
    });
    if (typeof theirs === "string") throw new Error(theirs);
    expect((await call(emulator, "GET", hooks(), token)).json).toEqual({ webhooks: [] });
    for (const [method, path] of [
      ["DELETE", ""],
      ["POST", "/refresh"],
      ["GET", "/payloads"],
    ] as const) {
      const res = await call(emulator, method, `${hooks()}/${theirs.id}${path}`, token);
      expect(res).toEqual({ status: 404, json: { error: "NOT_FOUND" } });
    }
    webhookHubFor(emulator.state).delete(theirs);
  });
});

describe("limits", () => {
  it("2 per integration per base: the third is TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE", async () => {
    expect((await create()).status).toBe(200);
    expect((await create()).status).toBe(200);
    const { status, json } = await create();
    expect(status).toBe(422);
    expect(json).toEqual({
      error: { type: "TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE", message: expect.any(String) },
    });
  });

  it("10 per base, whoever made them: the eleventh is TOO_MANY_WEBHOOKS_IN_BASE", async () => {
    const hub = webhookHubFor(emulator.state);
    const spec = { options: { filters: { dataTypes: ["tableData" as const] } } };
    const others = Array.from({ length: 9 }, (_, i) =>
      hub.create({
        baseId: roadmap.id,
        owner: `integration-${i % 5}`,
        notificationUrl: null,
        specification: spec,
      }),
    );
    expect((await create()).status).toBe(200);
    const { status, json } = await create();
    expect(status).toBe(422);
    expect(json).toEqual({ error: { type: "TOO_MANY_WEBHOOKS_IN_BASE", message: expect.any(String) } });
    for (const hook of others) if (typeof hook !== "string") hub.delete(hook);
  });

  it("a deleted webhook frees its place", async () => {
    const { json: first } = await create();
    await create();
    expect(await call(emulator, "DELETE", `${hooks()}/${first.id}`, token)).toEqual({
      status: 200,
      json: {},
    });
    expect((await create()).status).toBe(200);
  });
});

describe("expiry, refresh and notifications", () => {
  it("refresh moves expirationTime to 7 days from the refresh", async () => {
    const { json: created } = await create();
    emulator.state.clock.advance(3 * DAY);
    const before = emulator.state.clock.now();
    const { status, json } = await call(emulator, "POST", `${hooks()}/${created.id}/refresh`, token);
    expect(status).toBe(200);
    expectSevenDaysFrom(String(json.expirationTime), before);
  });

  it("listing payloads extends the life of an active webhook", async () => {
    const { json: created } = await create();
    emulator.state.clock.advance(6 * DAY);
    const before = emulator.state.clock.now();
    await call(emulator, "GET", `${hooks()}/${created.id}/payloads`, token);
    const listed = await call(emulator, "GET", hooks(), token);
    expect(listed.json.webhooks).toEqual([expect.objectContaining({ isHookEnabled: true })]);
    const [hook] = z.array(z.object({ expirationTime: z.string() })).parse(listed.json.webhooks);
    expectSevenDaysFrom(hook!.expirationTime, before);
  });

  it("after 7 days unrefreshed it is disabled, refuses refresh, and is gone a week later", async () => {
    const { json: created } = await create();
    emulator.state.clock.advance(7 * DAY);
    const listed = await call(emulator, "GET", hooks(), token);
    expect(listed.json.webhooks).toEqual([expect.objectContaining({ id: created.id, isHookEnabled: false })]);
    const refresh = await call(emulator, "POST", `${hooks()}/${created.id}/refresh`, token);
    expect(refresh.status).toBe(422);
    expect((await call(emulator, "GET", `${hooks()}/${created.id}/payloads`, token)).status).toBe(200);
    emulator.state.clock.advance(7 * DAY);
    expect((await call(emulator, "GET", hooks(), token)).json).toEqual({ webhooks: [] });
    expect((await call(emulator, "GET", `${hooks()}/${created.id}/payloads`, token)).status).toBe(404);
  });

  it("enableNotifications {enable} switches areNotificationsEnabled; a bad body is 422", async () => {
    const { json: created } = await create({
      notificationUrl: "https://example.com/ping",
      specification: SPEC,
    });
    const path = `${hooks()}/${created.id}/enableNotifications`;
    expect(await call(emulator, "POST", path, token, { enable: false })).toEqual({ status: 200, json: {} });
    expect((await call(emulator, "GET", hooks(), token)).json.webhooks).toEqual([
      expect.objectContaining({ areNotificationsEnabled: false }),
    ]);
    expect((await call(emulator, "POST", path, token, { enable: "yes" })).status).toBe(422);
  });
});

describe("payloads", () => {
  it.each([["cursor=0"], ["cursor=abc"], ["limit=0"], ["limit=51"]])("refuses %s with 422", async (query) => {
    const { json: created } = await create();
    const res = await call(emulator, "GET", `${hooks()}/${created.id}/payloads?${query}`, token);
    expect(res.status).toBe(422);
  });

  it("listing payloads needs the dataTypes' scopes too", async () => {
    const { json: created } = await create();
    const manageOnly = (await loginAutoApproved(emulator.url, "webhook:manage")).access_token;
    const res = await call(emulator, "GET", `${hooks()}/${created.id}/payloads`, manageOnly);
    expect(res).toEqual({ status: 403, json: PERMISSION_ERROR });
  });

  it("an empty page keeps the cursor it was asked for", async () => {
    const { json: created } = await create();
    const res = await call(emulator, "GET", `${hooks()}/${created.id}/payloads?cursor=4`, token);
    expect(res.json).toEqual({ payloads: [], cursor: 4, mightHaveMore: false });
  });
});

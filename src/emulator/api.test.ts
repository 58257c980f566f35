import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "./index.js";
import { createSampleData } from "./sample-data.js";
import { api, loginAutoApproved } from "./testing.js";

const data = createSampleData();
const [roadmap, crm, hiring] = data.bases as [
  (typeof data.bases)[0],
  (typeof data.bases)[0],
  (typeof data.bases)[0],
];
const features = roadmap.tables.find((t) => t.name === "Features")!;
const ALL = "data.records:read schema.bases:read user.email:read";

let emulator: RunningEmulator;
let token: string;
beforeAll(async () => {
  emulator = await startEmulator({ autoApprove: true });
  token = (await loginAutoApproved(emulator.url, ALL)).access_token;
});
afterAll(() => emulator.close());
// The shared emulator enforces 5 req/s per base like Airtable; start each test with a clean window.
beforeEach(() => emulator.advanceClock(31));

const PERMISSION_ERROR = {
  error: { type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", message: expect.any(String) },
};

describe("authentication", () => {
  it.each([
    ["no header", undefined],
    ["an unknown token", "not-a-token"],
  ])("%s → 401 AUTHENTICATION_REQUIRED", async (_name, bearer) => {
    const { status, json } = await api(emulator.url, "/v0/meta/whoami", bearer);
    expect(status).toBe(401);
    expect(json).toEqual({ error: { type: "AUTHENTICATION_REQUIRED", message: expect.any(String) } });
  });

  it("unknown paths → 404 NOT_FOUND", async () => {
    const { status, json } = await api(emulator.url, "/v0/meta/nothing/here/at/all", token);
    expect(status).toBe(404);
    expect(json).toEqual({ error: "NOT_FOUND" });
  });
});

describe("GET /v0/meta/whoami", () => {
  it("needs no scope; shows scopes, and email only under user.email:read", async () => {
    const withEmail = await api(emulator.url, "/v0/meta/whoami", token);
    expect(withEmail.json).toEqual({ id: data.user.id, scopes: ALL.split(" "), email: data.user.email });
    const other = await loginAutoApproved(emulator.url, "webhook:manage");
    const without = await api(emulator.url, "/v0/meta/whoami", other.access_token);
    expect(without.status).toBe(200);
    expect(without.json).toEqual({ id: data.user.id, scopes: ["webhook:manage"] });
  });

  it("is not rate limited", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api(emulator.url, "/v0/meta/whoami", token)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});

describe("GET /v0/meta/bases", () => {
  it("lists the granted bases with permission levels", async () => {
    const { status, json } = await api(emulator.url, "/v0/meta/bases", token);
    expect(status).toBe(200);
    expect(json).toEqual({
      bases: data.bases.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })),
    });
  });

  it("needs schema.bases:read", async () => {
    const other = await loginAutoApproved(emulator.url, "data.records:read");
    const { status, json } = await api(emulator.url, "/v0/meta/bases", other.access_token);
    expect(status).toBe(403);
    expect(json).toEqual(PERMISSION_ERROR);
  });

  it("paginates with offset", async () => {
    const small = await startEmulator({ autoApprove: true, basesPageSize: 2 });
    try {
      const t = (await loginAutoApproved(small.url, ALL)).access_token;
      const first = await api(small.url, "/v0/meta/bases", t);
      expect((first.json.bases as unknown[]).length).toBe(2);
      expect(first.json.offset).toEqual(expect.any(String));
      const second = await api(
        small.url,
        `/v0/meta/bases?offset=${encodeURIComponent(first.json.offset as string)}`,
        t,
      );
      expect((second.json.bases as { id: string }[]).map((b) => b.id)).toEqual([hiring.id]);
      expect(second.json.offset).toBeUndefined();
      const bad = await api(small.url, "/v0/meta/bases?offset=itrbogus/appXXXXXXXXXXXXXX", t);
      expect(bad.status).toBe(422);
      expect(bad.json).toEqual({ error: { type: "INVALID_REQUEST_UNKNOWN", message: expect.any(String) } });
    } finally {
      await small.close();
    }
  });
});

describe("GET /v0/meta/bases/:baseId/tables", () => {
  it("returns tables with fields and views, no records", async () => {
    const { status, json } = await api(emulator.url, `/v0/meta/bases/${crm.id}/tables`, token);
    expect(status).toBe(200);
    const tables = json.tables as Record<string, unknown>[];
    expect(tables.map((t) => t.name)).toEqual(crm.tables.map((t) => t.name));
    for (const table of tables) {
      expect(table).toEqual({
        id: expect.stringMatching(/^tbl/),
        name: expect.any(String),
        primaryFieldId: expect.stringMatching(/^fld/),
        fields: expect.arrayContaining([
          expect.objectContaining({ id: table.primaryFieldId, type: expect.any(String) }),
        ]),
        views: expect.arrayContaining([
          expect.objectContaining({ id: expect.stringMatching(/^viw/), type: "grid" }),
        ]),
      });
    }
  });

  it("needs schema.bases:read and a granted base; a malformed base id is 404", async () => {
    const noSchema = await loginAutoApproved(emulator.url, "data.records:read");
    expect((await api(emulator.url, `/v0/meta/bases/${crm.id}/tables`, noSchema.access_token)).status).toBe(
      403,
    );
    const unknown = await api(emulator.url, "/v0/meta/bases/appAAAAAAAAAAAAAA/tables", token);
    expect(unknown).toMatchObject({ status: 403, json: PERMISSION_ERROR });
    expect((await api(emulator.url, "/v0/meta/bases/nope/tables", token)).json).toEqual({
      error: "NOT_FOUND",
    });
  });
});

describe("GET /v0/:baseId/:tableIdOrName", () => {
  it("pages through all records with pageSize and offset", async () => {
    const seen: string[] = [];
    let offset: string | undefined;
    let pages = 0;
    do {
      const query = offset ? `&offset=${encodeURIComponent(offset)}` : "";
      const { status, json } = await api(
        emulator.url,
        `/v0/${roadmap.id}/${features.id}?pageSize=100${query}`,
        token,
      );
      expect(status).toBe(200);
      const records = json.records as { id: string; createdTime: string; fields: Record<string, unknown> }[];
      expect(records.length).toBeLessThanOrEqual(100);
      seen.push(...records.map((r) => r.id));
      offset = json.offset as string | undefined;
      pages++;
    } while (offset);
    expect(pages).toBe(3);
    expect(seen).toEqual(features.records.map((r) => r.id));
  });

  it("accepts the table name and defaults pageSize to 100", async () => {
    const { json } = await api(emulator.url, `/v0/${roadmap.id}/${encodeURIComponent("Features")}`, token);
    expect((json.records as unknown[]).length).toBe(100);
    const first = (json.records as { fields: Record<string, unknown> }[])[0]!;
    expect(first).toEqual({
      id: features.records[0]!.id,
      createdTime: expect.any(String),
      fields: features.records[0]!.fields,
    });
  });

  it("maxRecords caps the total across pages", async () => {
    const first = await api(emulator.url, `/v0/${roadmap.id}/Features?pageSize=3&maxRecords=5`, token);
    expect((first.json.records as unknown[]).length).toBe(3);
    const second = await api(
      emulator.url,
      `/v0/${roadmap.id}/Features?pageSize=3&maxRecords=5&offset=${encodeURIComponent(first.json.offset as string)}`,
      token,
    );
    expect((second.json.records as unknown[]).length).toBe(2);
    expect(second.json.offset).toBeUndefined();
  });

  it("fields[] limits the fields returned", async () => {
    const { json } = await api(
      emulator.url,
      `/v0/${roadmap.id}/Features?maxRecords=1&fields%5B%5D=Name`,
      token,
    );
    expect((json.records as { fields: object }[])[0]!.fields).toEqual({ Name: "Feature 1" });
  });

  it.each(["101", "0", "-1", "abc"])("pageSize=%s → 422 INVALID_PAGE_SIZE_ARGUMENT", async (pageSize) => {
    const { status, json } = await api(emulator.url, `/v0/${crm.id}/Contacts?pageSize=${pageSize}`, token);
    expect(status).toBe(422);
    expect(json).toEqual({ error: { type: "INVALID_PAGE_SIZE_ARGUMENT", message: expect.any(String) } });
  });

  it("an unknown view, field or offset → 422", async () => {
    expect((await api(emulator.url, `/v0/${crm.id}/Contacts?view=Nope`, token)).status).toBe(422);
    expect((await api(emulator.url, `/v0/${crm.id}/Contacts?fields%5B%5D=Nope`, token)).status).toBe(422);
    expect((await api(emulator.url, `/v0/${crm.id}/Contacts?offset=garbage`, token)).status).toBe(422);
  });

  it("an unknown table → 404 NOT_FOUND; no data.records:read → 403", async () => {
    expect((await api(emulator.url, `/v0/${crm.id}/Nope`, token)).json).toEqual({ error: "NOT_FOUND" });
    const schemaOnly = await loginAutoApproved(emulator.url, "schema.bases:read");
    expect((await api(emulator.url, `/v0/${hiring.id}/Candidates`, schemaOnly.access_token)).json).toEqual(
      PERMISSION_ERROR,
    );
  });
});

describe("rate limit: 5 requests/second per base, then 429 for 30 seconds", () => {
  it("answers RATE_LIMIT_REACHED and recovers after 30 s of emulator time", async () => {
    const local = await startEmulator({ autoApprove: true });
    try {
      const t = (await loginAutoApproved(local.url, ALL)).access_token;
      const path = `/v0/${crm.id}/Companies`;
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await api(local.url, path, t));
      expect(results.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(results[5]).toMatchObject({
        status: 429,
        json: { error: { type: "RATE_LIMIT_REACHED", message: expect.any(String) } },
      });
      expect(local.stats().rate_limited).toBe(1);
      // Another base and whoami are unaffected; the blocked base stays blocked.
      expect((await api(local.url, `/v0/${hiring.id}/Candidates`, t)).status).toBe(200);
      expect((await api(local.url, "/v0/meta/whoami", t)).status).toBe(200);
      expect((await api(local.url, `/v0/meta/bases/${crm.id}/tables`, t)).status).toBe(429);
      local.advanceClock(30);
      expect((await api(local.url, path, t)).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe("apiLatencyMs", () => {
  it("delays /v0 answers", async () => {
    const slow = await startEmulator({ autoApprove: true, apiLatencyMs: 120 });
    try {
      const started = performance.now();
      expect((await api(slow.url, "/v0/meta/whoami")).status).toBe(401);
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    } finally {
      await slow.close();
    }
  });
});

describe("an api fault with delay_ms and no status", () => {
  it("delays the next `count` answers, which are otherwise normal; a status fault still fails", async () => {
    const slow = await startEmulator({ autoApprove: true });
    const arm = (body: unknown) =>
      fetch(`${slow.url}/__emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      const t = (await loginAutoApproved(slow.url, ALL)).access_token;
      expect((await arm({ api: { delay_ms: 150, count: 2 } })).status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const started = performance.now();
        const res = await api(slow.url, "/v0/meta/whoami", t);
        expect(performance.now() - started).toBeGreaterThanOrEqual(140);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ id: data.user.id });
      }
      expect(slow.stats().api_requests).toBe(2);
      expect((await arm({ api: { status: 503, delay_ms: 10 } })).status).toBe(200);
      expect((await api(slow.url, "/v0/meta/whoami", t)).status).toBe(503);
      expect((await arm({ api: { retry_after: 3 } })).status).toBe(400);
    } finally {
      await slow.close();
    }
  });
});

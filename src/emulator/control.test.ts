import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "./index.js";
import { createSampleData } from "./sample-data.js";
import { api, loginAutoApproved, postToken } from "./testing.js";

const CLIENT = "airlock-emulator-client";
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ autoApprove: true });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  await control("POST", "/reset");
});

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emulator.url}/__emulator${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const refresh = (refresh_token: string) =>
  postToken(emulator.url, { grant_type: "refresh_token", refresh_token, client_id: CLIENT });

describe("GET /__emulator/stats", () => {
  it("reports the documented counters", async () => {
    const { status, json } = await control("GET", "/stats");
    expect(status).toBe(200);
    expect(json).toEqual({
      authorizations: 0,
      code_exchanges: 0,
      refreshes: 0,
      invalid_grants: 0,
      invalid_clients: 0,
      api_requests: 0,
      rate_limited: 0,
    });
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    await refresh(tokens.refresh_token);
    await refresh(tokens.refresh_token);
    await api(emulator.url, "/v0/meta/whoami");
    expect((await control("GET", "/stats")).json).toMatchObject({
      authorizations: 1,
      code_exchanges: 1,
      refreshes: 1,
      invalid_grants: 1,
      api_requests: 1,
    });
  });
});

describe("POST /__emulator/clock", () => {
  it("moves every expiry forward", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    const { status, json } = await control("POST", "/clock", { advance_seconds: 3601 });
    expect(status).toBe(200);
    expect(json.offset_seconds).toBe(3601);
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(401);
  });

  it.each([
    [{}],
    [{ advance_seconds: -5 }],
    [{ advance_seconds: "60" }],
    [{ advance_seconds: 1, extra: 1 }],
    ["not json"],
  ])("refuses %j with a message", async (body) => {
    const { status, json } = await control("POST", "/clock", body);
    expect(status).toBe(400);
    expect(json.error).toBe("invalid_body");
    expect(json.message).toEqual(expect.any(String));
  });
});

describe("POST /__emulator/faults: token endpoint", () => {
  it("answers the next `count` requests with the given status and error, then recovers", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    expect((await control("POST", "/faults", { token: { status: 503, count: 2 } })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const failed = await refresh(tokens.refresh_token);
      expect(failed).toEqual({
        status: 503,
        json: { error: "temporarily_unavailable", error_description: expect.any(String) },
      });
    }
    // The faulted requests were not processed: the refresh token is still current.
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });

  it("can inject a specific OAuth error (counted in stats)", async () => {
    await control("POST", "/faults", { token: { error: "invalid_grant" } });
    const res = await postToken(emulator.url, {
      grant_type: "refresh_token",
      refresh_token: "x",
      client_id: CLIENT,
    });
    expect(res).toEqual({
      status: 400,
      json: { error: "invalid_grant", error_description: expect.any(String) },
    });
    expect(emulator.stats().invalid_grants).toBe(1);
    await control("POST", "/faults", { token: { status: 409 } });
    expect((await postToken(emulator.url, { grant_type: "x" })).status).toBe(409);
  });

  it("delay_ms delays and then answers normally", async () => {
    await control("POST", "/faults", { token: { delay_ms: 120 } });
    const started = performance.now();
    const res = await postToken(emulator.url, {
      grant_type: "refresh_token",
      refresh_token: "x",
      client_id: CLIENT,
    });
    expect(res.json.error).toBe("invalid_grant");
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("rotate_then_drop rotates the tokens and destroys the connection without an answer", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    await control("POST", "/faults", { token: { rotate_then_drop: true } });
    await expect(refresh(tokens.refresh_token)).rejects.toThrow();
    // The refresh happened: it is counted, and the old tokens are dead (the response was lost).
    expect(emulator.stats().refreshes).toBe(1);
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(401);
    // Retrying with the token we still hold is reuse of a rotated token: invalid_grant.
    expect((await refresh(tokens.refresh_token)).json.error).toBe("invalid_grant");
  });

  it("GET shows what is armed and DELETE clears it", async () => {
    await control("POST", "/faults", {
      token: { status: 500, count: 3 },
      api: { status: 429, retry_after: 2 },
    });
    const armed = await control("GET", "/faults");
    expect(armed.json).toEqual({
      token: { status: 500, count: 3, remaining: 3 },
      api: { status: 429, count: 1, retry_after: 2, remaining: 1 },
    });
    await control("POST", "/faults", { token: null });
    expect((await control("GET", "/faults")).json.token).toBeNull();
    await control("DELETE", "/faults");
    expect((await control("GET", "/faults")).json).toEqual({ token: null, api: null });
  });

  it.each([
    [{}],
    [{ token: {} }],
    [{ token: { status: 99 } }],
    [{ tokn: { status: 500 } }],
    [{ api: { count: 0 } }],
  ])("refuses %j", async (body) => {
    const { status, json } = await control("POST", "/faults", body);
    expect(status).toBe(400);
    expect(json.error).toBe("invalid_body");
  });
});

describe("POST /__emulator/faults: Web API", () => {
  it("answers 503 RETRIABLE_ERROR with Retry-After, `count` times", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    await control("POST", "/faults", { api: { status: 503, count: 2, retry_after: 3 } });
    for (let i = 0; i < 2; i++) {
      const res = await api(emulator.url, "/v0/meta/whoami", tokens.access_token);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("3");
      expect(res.json).toEqual({ error: { type: "RETRIABLE_ERROR", message: expect.any(String) } });
    }
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(200);
  });

  it("answers 429 RATE_LIMIT_REACHED", async () => {
    await control("POST", "/faults", { api: { status: 429 } });
    const res = await api(emulator.url, "/v0/meta/whoami");
    expect(res.status).toBe(429);
    expect(res.json).toEqual({ error: { type: "RATE_LIMIT_REACHED", message: expect.any(String) } });
    expect(res.headers.get("retry-after")).toBeNull();
  });
});

describe("POST /__emulator/scopes: the developer disables a scope on the integration", () => {
  it("strips it from outstanding tokens and refuses it in new authorizations", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read user.email:read");
    const changed = await control("POST", "/scopes", { scopes: ["data.records:read", "schema.bases:read"] });
    expect(changed).toEqual({
      status: 200,
      json: { client_id: CLIENT, scopes: ["data.records:read", "schema.bases:read"] },
    });
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).json).toEqual({
      id: expect.stringMatching(/^usr/),
      scopes: ["data.records:read"],
    });
    const refreshed = await refresh(tokens.refresh_token);
    expect(refreshed.json.scope).toBe("data.records:read");
    await expect(loginAutoApproved(emulator.url, "user.email:read")).rejects.toThrow(/invalid_scope/);
    expect((await control("GET", "/scopes")).json.scopes).toEqual(["data.records:read", "schema.bases:read"]);
  });

  it.each([
    [{ scopes: [] }],
    [{ scopes: ["webhook.manage"] }],
    [{ scopes: ["block:manage", "block:manage"] }],
    [{}],
  ])("refuses %j", async (body) => {
    expect((await control("POST", "/scopes", body)).status).toBe(400);
  });
});

describe("POST /__emulator/revoke and /reset", () => {
  it("revoke: the user removed the integration; every token dies", async () => {
    const a = await loginAutoApproved(emulator.url, "data.records:read");
    const b = await loginAutoApproved(emulator.url, "data.records:read");
    expect((await control("POST", "/revoke")).json).toEqual({ revoked_grants: 2 });
    expect((await api(emulator.url, "/v0/meta/whoami", a.access_token)).status).toBe(401);
    expect((await refresh(b.refresh_token)).json.error).toBe("invalid_grant");
  });

  it("reset: zero stats, no tokens, real time, no faults", async () => {
    const tokens = await loginAutoApproved(emulator.url, "data.records:read");
    await control("POST", "/clock", { advance_seconds: 10 });
    await control("POST", "/faults", { api: { status: 503 } });
    await control("POST", "/reset");
    expect((await control("GET", "/stats")).json.code_exchanges).toBe(0);
    expect((await control("GET", "/clock")).json.offset_seconds).toBe(0);
    expect((await control("GET", "/faults")).json).toEqual({ token: null, api: null });
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(401);
  });

  it("unknown control paths are 404", async () => {
    expect((await control("GET", "/nope")).status).toBe(404);
  });
});

describe("/__emulator/grants: one grant at a time", () => {
  const grantOf = async (token: string) => (await control("POST", "/grants/find", { token })).json;

  it("GET lists the live grants; find names the grant of an access or refresh token", async () => {
    const a = await loginAutoApproved(emulator.url, "data.records:read");
    const b = await loginAutoApproved(emulator.url, "schema.bases:read");
    const listed = await control("GET", "/grants");
    expect(listed.json.grants).toEqual([
      { id: expect.any(String), client_id: CLIENT, scopes: ["data.records:read"], bases: "all" },
      { id: expect.any(String), client_id: CLIENT, scopes: ["schema.bases:read"], bases: "all" },
    ]);
    const found = await grantOf(a.access_token);
    expect(found).toEqual((listed.json.grants as unknown[])[0]);
    expect(await grantOf(a.refresh_token)).toEqual(found);
    expect((await grantOf(b.access_token)).id).not.toBe(found.id);
    expect((await control("POST", "/grants/find", { token: "nope" })).status).toBe(404);
    expect((await control("POST", "/grants/find", {})).status).toBe(400);
  });

  it("POST /grants/:id/revoke revokes that grant only", async () => {
    const a = await loginAutoApproved(emulator.url, "data.records:read");
    const b = await loginAutoApproved(emulator.url, "data.records:read");
    const { id } = await grantOf(a.access_token);
    expect((await control("POST", `/grants/${String(id)}/revoke`)).json).toEqual({ id, revoked: true });
    expect((await api(emulator.url, "/v0/meta/whoami", a.access_token)).status).toBe(401);
    expect((await refresh(a.refresh_token)).json.error).toBe("invalid_grant");
    expect((await api(emulator.url, "/v0/meta/whoami", b.access_token)).status).toBe(200);
    expect((await control("POST", `/grants/${String(id)}/revoke`)).status).toBe(404);
  });

  it("POST /grants/:id/bases changes the bases a grant reaches, at once", async () => {
    const tokens = await loginAutoApproved(emulator.url, "schema.bases:read");
    const listBases = async () =>
      ((await api(emulator.url, "/v0/meta/bases", tokens.access_token)).json.bases as { id: string }[]).map(
        (b) => b.id,
      );
    const all = await listBases();
    expect(all.length).toBeGreaterThan(1);
    const { id } = await grantOf(tokens.access_token);
    const narrowed = await control("POST", `/grants/${String(id)}/bases`, { bases: [all[1]] });
    expect(narrowed.json).toEqual({ id, client_id: CLIENT, scopes: ["schema.bases:read"], bases: [all[1]] });
    expect(await listBases()).toEqual([all[1]]);
    const schema = await api(emulator.url, `/v0/meta/bases/${all[0]}/tables`, tokens.access_token);
    expect(schema.status).toBe(403);
    await control("POST", `/grants/${String(id)}/bases`, { bases: "all" });
    expect(await listBases()).toEqual(all);
  });

  it.each([
    [{ bases: ["appAAAAAAAAAAAAAA"] }, "no base appAAAAAAAAAAAAAA"],
    [{ bases: ["nope"] }, "not a base id"],
    [{ bases: "some" }, "bases"],
    [{}, "bases"],
  ])("POST /grants/:id/bases refuses %j", async (body, message) => {
    const tokens = await loginAutoApproved(emulator.url, "schema.bases:read");
    const { id } = await grantOf(tokens.access_token);
    const res = await control("POST", `/grants/${String(id)}/bases`, body);
    expect(res.status).toBe(400);
    expect(res.json.message).toContain(message);
  });

  it("an unknown grant id is 404", async () => {
    expect((await control("POST", "/grants/nope/bases", { bases: "all" })).status).toBe(404);
  });
});

describe("GET /__emulator/bases/:baseId/tables/:tableIdOrName/records", () => {
  it("answers the records as stored, every field present (null when empty), without a token", async () => {
    const data = createSampleData();
    const roadmap = data.bases[0]!;
    const features = roadmap.tables.find((t) => t.name === "Features")!;
    const { status, json } = await control("GET", `/bases/${roadmap.id}/tables/Features/records`);
    expect(status).toBe(200);
    const records = json.records as { id: string; fields: Record<string, unknown> }[];
    expect(records).toHaveLength(features.records.length);
    expect(Object.keys(records[0]!.fields)).toEqual(features.fields.map((f) => f.name));
    expect(records[0]!.fields.Notes).toBeNull(); // empty in record 1: absent from the Web API, null here
    expect(records[0]).toMatchObject({
      id: features.records[0]!.id,
      createdTime: features.records[0]!.createdTime,
    });
    const byId = await control("GET", `/bases/${roadmap.id}/tables/${features.id}/records`);
    expect(byId.json).toEqual(json);
  });

  it("an unknown base or table is 404", async () => {
    const roadmap = createSampleData().bases[0]!;
    expect((await control("GET", `/bases/${roadmap.id}/tables/Nope/records`)).status).toBe(404);
    expect((await control("GET", "/bases/appAAAAAAAAAAAAAA/tables/Features/records")).status).toBe(404);
  });

  it("reset undoes writes to the data", async () => {
    const roadmap = createSampleData().bases[0]!;
    const { access_token } = await loginAutoApproved(emulator.url, "schema.bases:write schema.bases:read");
    const res = await fetch(`${emulator.url}/v0/meta/bases/${roadmap.id}/tables`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Scratch", fields: [{ name: "Name", type: "singleLineText" }] }),
    });
    expect(res.status).toBe(200);
    expect((await control("GET", `/bases/${roadmap.id}/tables/Scratch/records`)).status).toBe(200);
    await control("POST", "/reset");
    expect((await control("GET", `/bases/${roadmap.id}/tables/Scratch/records`)).status).toBe(404);
  });
});

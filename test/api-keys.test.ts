/**
 * Named API keys over HTTP (issue 12), on SQLite and PostgreSQL: scopes are enforced per route with
 * a 403 that names the key's scope, the scope needed and the fix; a revoked key is refused at once;
 * the last-used time is recorded; AIRLOCK_SECRET_KEY keeps working; only admin keys manage keys;
 * and a key is rotated without downtime (new key, clients switch, old key revoked, no failed call).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirlockApiError, AirlockClient } from "../src/client/index.js";
import { generateKeyringValue } from "../src/store/crypto.js";
import {
  connect,
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";

interface CreatedKey {
  id: string;
  name: string;
  scope: string;
  key: string;
  created_at: string;
}

describe.each(serviceStores("api-keys"))("named API keys (%s)", (store) => {
  let t: TestService;

  const as = (key: string, path: string, init: RequestInit = {}) =>
    t.api(path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
  const post = (key: string, path: string, body: unknown) =>
    as(key, path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const createKey = async (name: string, scope: string, key = SECRET_KEY): Promise<CreatedKey> => {
    const res = await post(key, "/v1/api-keys", { name, scope });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as CreatedKey;
  };
  const listKeys = async () =>
    ((await (await t.api("/v1/api-keys")).json()) as { api_keys: Array<Record<string, unknown>> }).api_keys;

  beforeAll(async () => {
    t = await startTestService({ store });
    const steps = await connect(t, { identifier: "u1" });
    expect(steps.final.status).toBeLessThan(400);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates a key shown once, lists it without the key, and stores only its hash", async () => {
    const created = await createKey("workers", "proxy");
    expect(created).toMatchObject({ name: "workers", scope: "proxy" });
    expect(created.id).toMatch(/^key_/);
    expect(created.key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    const listed = (await listKeys()).find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: "workers",
      scope: "proxy",
      created_at: created.created_at,
      last_used_at: null,
      revoked_at: null,
    });
    expect(JSON.stringify(await listKeys())).not.toContain(created.key);
  });

  it("a proxy key proxies and gets access tokens, but cannot create connect sessions or list connections", async () => {
    const { key } = await createKey("proxy only", "proxy");
    expect((await as(key, "/v1/proxy/u1/v0/meta/whoami")).status).toBe(200);
    expect((await as(key, "/v1/connections/u1/access-token", { method: "POST" })).status).toBe(200);
    for (const res of [
      await post(key, "/v1/connect-sessions", { identifier: "u2" }),
      await as(key, "/v1/connections"),
    ]) {
      expect(res.status).toBe(403);
      const { error } = (await res.json()) as { error: { code: string; message: string; hint: string } };
      expect(error.code).toBe("access_denied");
      expect(error.message).toContain("scope `proxy`");
      expect(error.message).toMatch(/needs `(connect|admin)`/);
      expect(error.hint).toContain("airlock keys create");
    }
  });

  it("a connect key can only create connect sessions", async () => {
    const { key } = await createKey("web app", "connect");
    expect((await post(key, "/v1/connect-sessions", { identifier: "u3" })).status).toBe(201);
    expect((await as(key, "/v1/connections")).status).toBe(403);
    expect((await as(key, "/v1/connections/u1")).status).toBe(403);
    expect((await as(key, "/v1/connections/u1/access-token", { method: "POST" })).status).toBe(403);
    expect((await as(key, "/v1/proxy/u1/v0/meta/whoami")).status).toBe(403);
    expect((await as(key, "/v1/api-keys")).status).toBe(403);
  });

  it("only admin keys manage keys; an admin key works everywhere", async () => {
    const admin = await createKey("ops", "admin");
    expect((await as(admin.key, "/v1/connections")).status).toBe(200);
    const made = await createKey("made by ops", "connect", admin.key);
    expect((await as(admin.key, `/v1/api-keys/${made.id}`, { method: "DELETE" })).status).toBe(204);
    const proxy = await createKey("p", "proxy");
    const refused = await post(proxy.key, "/v1/api-keys", { name: "x", scope: "admin" });
    expect(refused.status).toBe(403);
    expect((await as(proxy.key, `/v1/api-keys/${made.id}`, { method: "DELETE" })).status).toBe(403);
  });

  it("a revoked key is refused at once, and stays listed as revoked", async () => {
    const { id, key } = await createKey("short lived", "admin");
    expect((await as(key, "/v1/connections")).status).toBe(200);
    expect((await t.api(`/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(204);
    const res = await as(key, "/v1/connections");
    expect(res.status).toBe(401);
    expect((await t.api(`/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await listKeys()).find((k) => k.id === id)?.revoked_at).toEqual(expect.any(String));
    expect((await t.api("/v1/api-keys/key_unknown", { method: "DELETE" })).status).toBe(404);
  });

  it("records the last-used time", async () => {
    const { id, key } = await createKey("used", "proxy");
    expect((await listKeys()).find((k) => k.id === id)?.last_used_at).toBeNull();
    const before = Date.now();
    expect((await as(key, "/v1/connections/u1/access-token", { method: "POST" })).status).toBe(200);
    await expect
      .poll(async () => (await listKeys()).find((k) => k.id === id)?.last_used_at)
      .toEqual(expect.any(String));
    const usedAt = Date.parse(String((await listKeys()).find((k) => k.id === id)?.last_used_at));
    expect(usedAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it("the secret key still works, and a wrong key is still 401", async () => {
    expect((await t.api("/v1/connections")).status).toBe(200);
    const wrong = await as("ak_not_a_key", "/v1/connections");
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("validates names and scopes with the usual error shape", async () => {
    for (const body of [
      { name: "", scope: "admin" },
      { name: "x".repeat(101), scope: "admin" },
      { name: "tab\there", scope: "admin" },
      { name: "bell\u0007", scope: "admin" },
      { name: "zero\u200bwidth", scope: "admin" },
      { name: "   ", scope: "admin" },
      { name: "ok", scope: "root" },
      { name: "ok" },
      { name: "ok", scope: "admin", extra: 1 },
    ]) {
      const res = await post(SECRET_KEY, "/v1/api-keys", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; hint: string } };
      expect(error.code).toBe("invalid_input");
      expect(error.hint.length).toBeGreaterThan(0);
    }
    expect((await t.api("/v1/api-keys/not-an-id", { method: "DELETE" })).status).toBe(400);
  });

  it("a key revoked on one instance is refused at once by another on the same database", async () => {
    const keyring = generateKeyringValue("multi");
    const a = await startTestService({ store, env: { AIRLOCK_ENCRYPTION_KEYS: keyring } });
    const b = await startTestService({
      env: { AIRLOCK_ENCRYPTION_KEYS: keyring, DATABASE_URL: a.databaseUrl },
    });
    try {
      const res = await a.api("/v1/api-keys", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "shared", scope: "admin" }),
      });
      const { id, key } = (await res.json()) as CreatedKey;
      const onB = () => b.api("/v1/api-keys", { headers: { authorization: `Bearer ${key}` } });
      expect((await onB()).status).toBe(200);
      expect((await a.api(`/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(204);
      expect((await onB()).status).toBe(401);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("rotates a key without downtime: create new, switch clients, revoke old, no failed call", async () => {
    const old = await createKey("billing workers", "proxy");
    let current = old.key;
    let stop = false;
    const results: Array<{ key: string; status: number }> = [];
    const client = async () => {
      while (!stop) {
        const key = current;
        const res = await as(key, "/v1/connections/u1/access-token", { method: "POST" });
        await res.arrayBuffer();
        results.push({ key, status: res.status });
      }
    };
    const clients = [client(), client(), client()];
    const waitCalls = async (n: number) => {
      const target = results.length + n;
      while (results.length < target) await new Promise((r) => setTimeout(r, 5));
    };
    await waitCalls(15);
    const fresh = await createKey("billing workers (new)", "proxy"); // 1. create the new key
    await waitCalls(15);
    current = fresh.key; // 2. switch the clients
    // A call already sent with the old key must finish before the old key goes.
    await waitCalls(15);
    expect((await t.api(`/v1/api-keys/${old.id}`, { method: "DELETE" })).status).toBe(204); // 3. revoke
    await waitCalls(15);
    stop = true;
    await Promise.all(clients);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.some((r) => r.key === old.key)).toBe(true);
    expect(results.filter((r) => r.key === fresh.key).length).toBeGreaterThanOrEqual(30);
    expect((await as(old.key, "/v1/connections/u1/access-token", { method: "POST" })).status).toBe(401);
  });
});

describe("the SDK's API key methods", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("createApiKey, listApiKeys, revokeApiKey; a connect key works in the SDK and is refused elsewhere", async () => {
    const admin = new AirlockClient({ baseUrl: t.url, secretKey: SECRET_KEY });
    const created = await admin.createApiKey({ name: "sdk web", scope: "connect" });
    expect(created).toMatchObject({ name: "sdk web", scope: "connect", createdAt: expect.any(Date) });
    expect(created.key).toMatch(/^ak_/);
    const listed = await admin.listApiKeys();
    expect(listed).toEqual([
      {
        id: created.id,
        name: "sdk web",
        scope: "connect",
        createdAt: created.createdAt,
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    const web = new AirlockClient({ baseUrl: t.url, secretKey: created.key });
    expect((await web.createConnectSession({ identifier: "u9" })).url).toContain("/connect/");
    const refused = await web.listConnections().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AirlockApiError);
    expect((refused as AirlockApiError).status).toBe(403);
    expect((refused as AirlockApiError).code).toBe("access_denied");
    await admin.revokeApiKey(created.id);
    expect((await admin.listApiKeys())[0]?.revokedAt).toBeInstanceOf(Date);
    await expect(web.createConnectSession({ identifier: "u9" })).rejects.toMatchObject({ status: 401 });
    await expect(admin.revokeApiKey("key_nope")).rejects.toMatchObject({ status: 404, code: "not_found" });
  });
});

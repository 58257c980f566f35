/**
 * Disconnect keeps the connection: `DELETE /v1/connections/:identifier` marks it `revoked`, erases its
 * tokens (the encrypted columns hold a placeholder, never the old tokens) and keeps the row and its
 * history; the proxy and the access-token API answer 409 with a hint to reconnect; a connect link
 * reactivates it in place. Real service over HTTP, on SQLite and (when AIRLOCK_TEST_DATABASE_URL is
 * set) PostgreSQL.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connect,
  dumpPostgres,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";

interface ErrorJson {
  error: { code: string; message: string; hint: string; details?: Record<string, unknown> };
}

/** Every stored value of the service's database as one text (what an attacker with the file sees). */
async function rawDatabase(t: TestService): Promise<string> {
  if (t.sqlitePath === null) return dumpPostgres(t);
  const db = new Database(t.sqlitePath, { readonly: true });
  try {
    return JSON.stringify(db.prepare("SELECT * FROM connections").all());
  } finally {
    db.close();
  }
}

describe.each(serviceStores("service-disconnect"))("disconnect keeps a revoked connection (%s)", (store) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ store, start: { keepAlive: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("marks the connection revoked, erases its tokens, keeps its history, and answers 409 to reconnect", async () => {
    await connect(t, { identifier: "rev_user" });
    // Warm this process's token cache: the disconnect must drop it, or the proxy would keep working.
    const token = (await (
      await t.api("/v1/connections/rev_user/access-token", { method: "POST" })
    ).json()) as { access_token: string };
    expect((await t.api("/v1/proxy/rev_user/v0/meta/whoami")).status).toBe(200);
    const before = await t.service.ctx.store.getConnection("rev_user");

    const deleted = await t.api("/v1/connections/rev_user", { method: "DELETE" });
    expect(deleted.status).toBe(204);

    const shown = await t.api("/v1/connections/rev_user");
    expect(shown.status).toBe(200);
    const json = (await shown.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ identifier: "rev_user", status: "revoked", status_reason: "disconnected" });
    // Dead tokens have no future expiry.
    expect(Date.parse(String(json.access_token_expires_at))).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(String(json.refresh_token_expires_at))).toBeLessThanOrEqual(Date.now());

    // The tokens are gone from the row: neither plaintext nor the old ciphertexts remain.
    const row = await t.service.ctx.store.getConnection("rev_user");
    expect(row?.accessToken).not.toBe(before?.accessToken);
    expect(row?.refreshToken).not.toBe(before?.refreshToken);
    expect(row?.version).toBe(before!.version + 1);
    const raw = await rawDatabase(t);
    expect(raw).not.toContain(token.access_token);
    expect(raw).not.toContain(before!.refreshToken);

    for (const [path, init] of [
      ["/v1/connections/rev_user/access-token", { method: "POST" }],
      ["/v1/proxy/rev_user/v0/meta/whoami", {}],
    ] as const) {
      const res = await t.api(path, init);
      expect(res.status, path).toBe(409);
      const body = (await res.json()) as ErrorJson;
      expect(body.error.code).toBe("reauth_required");
      expect(body.error.message).toContain("disconnected");
      expect(body.error.hint).toContain("POST /v1/connect-sessions");
    }

    const listed = (await (await t.api("/v1/connections?status=revoked")).json()) as {
      connections: Array<{ identifier: string }>;
    };
    expect(listed.connections.map((c) => c.identifier)).toContain("rev_user");

    // Deleting again is a no-op (no second event); an identifier never seen is a 404.
    expect((await t.api("/v1/connections/rev_user", { method: "DELETE" })).status).toBe(204);
    expect((await t.api("/v1/connections/never_there", { method: "DELETE" })).status).toBe(404);
    const events = (await (await t.api("/v1/connections/rev_user/events")).json()) as {
      events: Array<{ type: string; data: Record<string, unknown> }>;
    };
    expect(events.events.filter((e) => e.type === "connection.deleted")).toHaveLength(1);
    expect(events.events[0]).toMatchObject({ type: "connection.deleted", data: { source: "api" } });
  });

  it("reactivates a revoked connection through a new connect link", async () => {
    await connect(t, { identifier: "back_user" });
    expect((await t.api("/v1/connections/back_user", { method: "DELETE" })).status).toBe(204);
    const again = await connect(t, { identifier: "back_user" });
    expect(again.final.status).toBe(200);
    const shown = (await (await t.api("/v1/connections/back_user")).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ status: "active", status_reason: null });
    expect(Date.parse(String(shown.access_token_expires_at))).toBeGreaterThan(Date.now());
    expect((await t.api("/v1/proxy/back_user/v0/meta/whoami")).status).toBe(200);
    expect((await t.api("/v1/connections/back_user/access-token", { method: "POST" })).status).toBe(200);
  });

  it("documents DELETE as a disconnect that keeps the connection", async () => {
    const doc = (await (await t.api("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>>;
    };
    const op = doc.paths["/v1/connections/{identifier}"]?.delete;
    expect(op?.summary).toContain("revoked");
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["204", "404"]));
  });
});

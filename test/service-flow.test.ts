/**
 * The service end to end over real HTTP: the demo emulator (real server, auto-approve), a real
 * SQLite file (and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set). Connect link → authorize →
 * callback → active connection → access token → proxy; reconnect in place; delete; pagination.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  connect,
  createSession,
  location,
  serviceStores,
  startTestService,
  type TestService,
  useConnectLink,
} from "./security/harness.js";

describe.each(serviceStores("service-flow"))("service flow (%s)", (store) => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({ store });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("connects a user and calls Airtable through the proxy", async () => {
    const returnUrl = `${t.url}/done?from=test`;
    const steps = await connect(t, { identifier: "user_1", return_url: returnUrl });

    expect(new URL(steps.connectUrl).pathname).toMatch(/^\/connect\/[A-Za-z0-9_-]{43}$/);
    const authorize = new URL(steps.authorizeUrl);
    expect(authorize.origin).toBe(t.service.emulator?.url);
    expect(authorize.pathname).toBe("/oauth2/v1/authorize");
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${t.url}/oauth/callback`);

    expect(steps.final.status).toBe(302);
    const back = new URL(location(steps.final));
    expect(back.origin + back.pathname).toBe(`${t.url}/done`);
    expect(back.searchParams.get("from")).toBe("test");
    expect(back.searchParams.get("status")).toBe("connected");
    expect(back.searchParams.get("identifier")).toBe("user_1");

    const got = await t.api("/v1/connections/user_1");
    expect(got.status).toBe(200);
    const connection = (await got.json()) as Record<string, unknown>;
    expect(connection).toMatchObject({ identifier: "user_1", status: "active", status_reason: null });
    expect(connection.airtable_user_id).toMatch(/^usr/);
    expect(connection.scopes).toEqual(expect.arrayContaining(["data.records:read", "schema.bases:read"]));
    expect(Object.keys(connection)).toEqual(
      expect.arrayContaining([
        "access_token_expires_at",
        "refresh_token_expires_at",
        "last_refreshed_at",
        "created_at",
        "email",
      ]),
    );
    expect(JSON.stringify(connection)).not.toMatch(/access_token"|refresh_token"/);

    const tokenRes = await t.api("/v1/connections/user_1/access-token", { method: "POST" });
    expect(tokenRes.status).toBe(200);
    const token = (await tokenRes.json()) as { access_token: string; expires_at: string };
    expect(token.access_token.length).toBeGreaterThan(10);
    expect(new Date(token.expires_at).getTime()).toBeGreaterThan(Date.now() + 5 * 60_000);

    const whoami = await t.api("/v1/proxy/user_1/v0/meta/whoami");
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { id: string }).id).toBe(connection.airtable_user_id);

    const bases = await t.api("/v1/proxy/user_1/v0/meta/bases");
    expect(bases.status).toBe(200);
    const list = (await bases.json()) as { bases: Array<{ id: string }> };
    expect(list.bases.length).toBeGreaterThan(0);

    const tables = await t.api(`/v1/proxy/user_1/v0/meta/bases/${list.bases[0]?.id}/tables`);
    expect(tables.status).toBe(200);
    expect(((await tables.json()) as { tables: unknown[] }).tables.length).toBeGreaterThan(0);

    const events = await t.api("/v1/connections/user_1/events");
    expect(
      ((await events.json()) as { events: Array<{ type: string }> }).events.map((e) => e.type),
    ).toContain("connection.created");
  });

  it("shows a success page when there is no return_url", async () => {
    const steps = await connect(t, { identifier: "user_page" });
    expect(steps.final.status).toBe(200);
    expect(steps.final.headers.get("content-type")).toMatch(/text\/html/);
    expect(await steps.final.text()).toContain("Airtable connected");
  });

  it("reconnects in place: reauth_required → active, same identifier, connection.recovered", async () => {
    await connect(t, { identifier: "user_re" });
    const before = t.service.ctx;
    const row = await before.store.getConnection("user_re");
    expect(row?.status).toBe("active");
    await before.store.markReauthRequired(
      "user_re",
      { version: row?.version ?? 0, reason: "invalid_grant", now: new Date() },
      { type: "connection.reauth_required", data: { reason: "invalid_grant" } },
    );
    before.tokens.invalidate("user_re");

    const blocked = await t.api("/v1/connections/user_re/access-token", { method: "POST" });
    expect(blocked.status).toBe(409);
    const body = (await blocked.json()) as { error: { code: string; hint: string } };
    expect(body.error.code).toBe("reauth_required");
    expect(body.error.hint).toContain("/v1/connect-sessions");
    const proxied = await t.api("/v1/proxy/user_re/v0/meta/whoami");
    expect(proxied.status).toBe(409);
    expect(((await proxied.json()) as { error: { code: string } }).error.code).toBe("reauth_required");

    const again = await connect(t, { identifier: "user_re" });
    expect(again.final.status).toBe(200);
    const after = (await (await t.api("/v1/connections/user_re")).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ identifier: "user_re", status: "active", status_reason: null });
    const ok = await t.api("/v1/proxy/user_re/v0/meta/whoami");
    expect(ok.status).toBe(200);
    const events = (await (await t.api("/v1/connections/user_re/events")).json()) as {
      events: Array<{ type: string }>;
    };
    expect(events.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["connection.created", "connection.reauth_required", "connection.recovered"]),
    );
  });

  it("records a reconnect of a healthy connection as connection.reconnected, with its true previous status", async () => {
    await connect(t, { identifier: "user_again" });
    await connect(t, { identifier: "user_again" });
    const events = (await (await t.api("/v1/connections/user_again/events")).json()) as {
      events: Array<{ type: string; data: Record<string, unknown> }>;
    };
    expect(events.events.map((e) => e.type)).toEqual(["connection.reconnected", "connection.created"]);
    expect(events.events[0]?.data).toMatchObject({ previous_status: "active" });
  });

  it("disconnects a connection: it stays as revoked, answers 409, and records connection.deleted", async () => {
    await connect(t, { identifier: "user_del" });
    // Warm this process's token cache: the disconnect must drop it, or the proxy would keep working.
    expect((await t.api("/v1/proxy/user_del/v0/meta/whoami")).status).toBe(200);
    const del = await t.api("/v1/connections/user_del", { method: "DELETE" });
    expect(del.status).toBe(204);
    const shown = (await (await t.api("/v1/connections/user_del")).json()) as { status: string };
    expect(shown.status).toBe("revoked");
    const token = await t.api("/v1/connections/user_del/access-token", { method: "POST" });
    expect(token.status).toBe(409);
    expect(((await token.json()) as { error: { code: string } }).error.code).toBe("reauth_required");
    expect((await t.api("/v1/proxy/user_del/v0/meta/whoami")).status).toBe(409);
    expect((await t.api("/v1/connections/user_del", { method: "DELETE" })).status).toBe(204);
    expect((await t.api("/v1/connections/user_nobody", { method: "DELETE" })).status).toBe(404);
    const events = (await (await t.api("/v1/connections/user_del/events")).json()) as {
      events: Array<{ type: string }>;
    };
    expect(events.events.map((e) => e.type)).toContain("connection.deleted");
  });

  it("paginates connections with limit/cursor and filters by status", async () => {
    for (const id of ["page_a", "page_b", "page_c"]) await connect(t, { identifier: id });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await t.api(`/v1/connections${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        connections: Array<{ identifier: string }>;
        next_cursor: string | null;
      };
      expect(page.connections.length).toBeLessThanOrEqual(2);
      seen.push(...page.connections.map((c) => c.identifier));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(["page_a", "page_b", "page_c", "user_1"]));
    // A disconnected connection is still listed, as revoked (and only there, not among the active).
    expect(seen).toContain("user_del");

    const active = (await (await t.api("/v1/connections?status=active&limit=200")).json()) as {
      connections: Array<{ identifier: string; status: string }>;
    };
    expect(active.connections.every((c) => c.status === "active")).toBe(true);
    expect(active.connections.map((c) => c.identifier)).not.toContain("user_del");
    const bad = await t.api("/v1/connections?limit=0");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "invalid_input",
    });
  });

  it("validates connect-session bodies with named fields", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /identifier/],
      [{ identifier: "" }, /identifier/],
      [{ identifier: "../admin" }, /identifier/],
      [{ identifier: "x".repeat(256) }, /identifier/],
      [{ identifier: "ok", scopes: ["webhook.manage"] }, /webhook:manage/],
      [{ identifier: "ok", extra: 1 }, /extra|Unrecognized/i],
    ];
    for (const [body, message] of cases) {
      const res = await t.api("/v1/connect-sessions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const json = (await res.json()) as { error: { code: string; message: string; hint: string } };
      expect(json.error.code).toBe("invalid_input");
      expect(`${json.error.message} ${json.error.hint}`).toMatch(message);
      expect(json.error.hint.length).toBeGreaterThan(0);
    }
    const malformed = await t.api("/v1/connect-sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
  });

  it("serves healthz, metrics with the connection gauge, and request ids", async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", store, demo: true });
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/airlock_connections\{status="active"\} [1-9]/);
    expect(text).toMatch(/airlock_proxy_requests_total\{status="200"\} [1-9]/);
    const withId = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "req-abc.123" } });
    expect(withId.headers.get("x-request-id")).toBe("req-abc.123");
    const generated = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "bad id <script>" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.logs.lines.some((l) => l.includes('"requestId":"req-abc.123"'))).toBe(true);
  });

  it("a connect link is single use and a demo consent page is real (not auto-approved) by default", async () => {
    const session = await createSession(t, { identifier: "user_once" });
    const browser = new Browser();
    expect((await useConnectLink(browser, session.url)).status).toBe(302);
    const reused = await browser.get(session.url);
    expect(reused.status).toBe(410);
    expect(await reused.text()).toContain("already used");
  });
});

describe("demo mode default", () => {
  it("shows the emulator's consent page instead of auto-approving", async () => {
    const t = await startTestService({ demoEmulator: { autoApprove: false } });
    try {
      const session = await createSession(t, { identifier: "user_consent" });
      const browser = new Browser();
      const authorize = location(await useConnectLink(browser, session.url));
      const consent = await browser.get(authorize);
      expect(consent.status).toBe(200);
      expect(await consent.text()).toMatch(/<form/i);
      expect(t.service.emulator?.stats().authorizations).toBe(0);
    } finally {
      await t.close();
    }
  });
});

/**
 * The proxy's behaviour over real HTTP: header hygiene both ways, status/body passthrough,
 * streaming, 429 + Retry-After untouched and never retried, one forced refresh and one retry on a
 * 401 (but not for a body too large to replay), 504 on upstream timeout, 503 when unreachable.
 * Against a recording upstream (which also plays Airtable's token endpoint) and the demo emulator,
 * on SQLite and (when AIRLOCK_TEST_DATABASE_URL is set) PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  auth,
  connect,
  rawRequest,
  seedServiceConnection,
  serviceStores,
  startServiceWithUpstream,
  startTestService,
  type TestService,
} from "./security/harness.js";
import type { CraftedResponse, RecordedRequest, RecordingServer } from "./support/recording-server.js";

const stores = serviceStores("service-proxy");

describe.each(stores)("proxy against a recording upstream (%s)", (store) => {
  let t: TestService;
  let upstream: RecordingServer;
  let answer: (req: RecordedRequest) => CraftedResponse = () => ({ status: 200, body: { ok: true } });
  const api = () => upstream.requests.filter((r) => r.url.startsWith("/v0/"));
  const tokenCalls = () => upstream.requests.filter((r) => r.url.startsWith("/oauth2/v1/token"));

  beforeAll(async () => {
    ({ t, upstream } = await startServiceWithUpstream(
      (req) => {
        if (req.url.startsWith("/oauth2/v1/token")) {
          return {
            status: 200,
            body: {
              access_token: `tok_refreshed_${tokenCalls().length}`,
              refresh_token: `ref_refreshed_${tokenCalls().length}`,
              token_type: "Bearer",
              expires_in: 3600,
              refresh_expires_in: 5184000,
              scope: "data.records:read schema.bases:read",
            },
          };
        }
        return answer(req);
      },
      {
        clientId: "client_proxy",
        env: { AIRLOCK_PROXY_TIMEOUT_MS: "500" },
        start: { keepAlive: false },
        store,
      },
    ));
  });
  afterEach(() => {
    upstream.requests.length = 0;
    answer = () => ({ status: 200, body: { ok: true } });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it("strips the caller's credentials and hop-by-hop headers, injects the token, keeps the rest", async () => {
    await seedServiceConnection(t, "hdr", "tok_hdr");
    answer = () => ({
      status: 422,
      headers: {
        "set-cookie": "session=upstream; HttpOnly",
        "x-airtable-request-id": "abc123",
        "keep-alive": "timeout=99, max=7",
        "content-type": "application/json; charset=utf-8",
      },
      body: JSON.stringify({ error: { type: "INVALID_REQUEST_UNKNOWN", message: "bad" } }),
    });
    // node:http, because fetch refuses to send Connection/TE headers at all.
    const res = await rawRequest(
      t.url,
      "/v1/proxy/hdr/v0/appAAAAAAAAAAAAAA/Tasks?view=Grid%20view&pageSize=5",
      {
        method: "POST",
        headers: {
          ...auth,
          cookie: "dashboard_session=secret",
          "proxy-authorization": "Basic abc",
          te: "trailers",
          connection: "x-drop-me",
          "x-drop-me": "1",
          "x-keep-me": "2",
          "content-type": "application/json",
          "user-agent": "my-app/1.0",
        },
        body: JSON.stringify({ records: [{ fields: { Name: "A" } }] }),
      },
    );
    expect(res.status).toBe(422);
    expect((JSON.parse(res.body) as { error: { type: string } }).error.type).toBe("INVALID_REQUEST_UNKNOWN");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["keep-alive"]).not.toBe("timeout=99, max=7");
    expect(res.headers["x-airtable-request-id"]).toBe("abc123");
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");

    const [seen] = api();
    expect(seen?.url).toBe("/v0/appAAAAAAAAAAAAAA/Tasks?view=Grid%20view&pageSize=5");
    expect(seen?.method).toBe("POST");
    expect(seen?.headers.authorization).toBe("Bearer tok_hdr");
    expect(seen?.headers.cookie).toBeUndefined();
    expect(seen?.headers["proxy-authorization"]).toBeUndefined();
    expect(seen?.headers.te).toBeUndefined();
    expect(seen?.headers["x-drop-me"]).toBeUndefined();
    expect(seen?.headers["x-keep-me"]).toBe("2");
    expect(seen?.headers["user-agent"]).toBe("my-app/1.0");
    expect(seen?.body).toBe(JSON.stringify({ records: [{ fields: { Name: "A" } }] }));
  });

  it("keeps encoded path segments and the query exactly", async () => {
    await seedServiceConnection(t, "enc", "tok_enc");
    const path =
      "/v0/appAAAAAAAAAAAAAA/Table%20Name%2FSub?filterByFormula=%7BStatus%7D%3D%27Done%27&fields%5B%5D=Name";
    expect((await fetch(`${t.url}/v1/proxy/enc${path}`, { headers: auth })).status).toBe(200);
    expect(api()[0]?.url).toBe(path);
  });

  it("passes Airtable's 429 and Retry-After through untouched, with no retry", async () => {
    await seedServiceConnection(t, "busy", "tok_busy");
    answer = () => ({
      status: 429,
      headers: { "retry-after": "30" },
      body: { errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded." }] },
    });
    const res = await fetch(`${t.url}/v1/proxy/busy/v0/meta/bases`, { headers: auth });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(await res.json()).toEqual({
      errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded." }],
    });
    expect(api()).toHaveLength(1);
    expect(tokenCalls()).toHaveLength(0);
  });

  it("on a 401 forces one refresh and retries once with the same body", async () => {
    await seedServiceConnection(t, "stale", "tok_stale");
    answer = (req) =>
      req.headers.authorization === "Bearer tok_stale"
        ? { status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED", message: "expired" } } }
        : { status: 200, body: { ok: true, echoed: req.body } };
    const body = JSON.stringify({ records: [{ fields: { Name: "retry me" } }] });
    const res = await fetch(`${t.url}/v1/proxy/stale/v0/appAAAAAAAAAAAAAA/Tasks`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, echoed: body });
    expect(tokenCalls()).toHaveLength(1);
    expect(api().map((r) => r.headers.authorization)).toEqual(["Bearer tok_stale", "Bearer tok_refreshed_1"]);
    expect(api().map((r) => r.body)).toEqual([body, body]);
    // The next call uses the refreshed token from the cache: no new refresh.
    upstream.requests.length = 0;
    expect((await fetch(`${t.url}/v1/proxy/stale/v0/meta/whoami`, { headers: auth })).status).toBe(200);
    expect(tokenCalls()).toHaveLength(0);
  });

  it("passes a second 401 through (one retry only)", async () => {
    await seedServiceConnection(t, "revoked", "tok_revoked");
    answer = () => ({ status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED" } } });
    const res = await fetch(`${t.url}/v1/proxy/revoked/v0/meta/whoami`, { headers: auth });
    expect(res.status).toBe(401);
    expect(api()).toHaveLength(2);
    expect(tokenCalls()).toHaveLength(1);
  });

  it("does not retry a 401 when the body was streamed (too large to replay)", async () => {
    await seedServiceConnection(t, "bigbody", "tok_big");
    answer = () => ({ status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED" } } });
    const res = await fetch(`${t.url}/v1/proxy/bigbody/v0/appAAAAAAAAAAAAAA/Tasks`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: Buffer.alloc(1024 * 1024 + 4096, 120),
    });
    expect(res.status).toBe(401);
    expect(api()).toHaveLength(1);
    expect(tokenCalls()).toHaveLength(0);
  });

  it("streams a large response body back intact", async () => {
    await seedServiceConnection(t, "large", "tok_large");
    const big = "x".repeat(3 * 1024 * 1024);
    answer = () => ({ status: 200, headers: { "content-type": "text/plain" }, body: big });
    const res = await fetch(`${t.url}/v1/proxy/large/v0/bases/export`, { headers: auth });
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBe(big.length);
  });

  it("answers 504 timeout when Airtable does not answer in time", async () => {
    await seedServiceConnection(t, "slow", "tok_slow");
    answer = () => ({ hang: true });
    const res = await fetch(`${t.url}/v1/proxy/slow/v0/meta/whoami`, { headers: auth });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string; hint: string } };
    expect(body.error.code).toBe("timeout");
    expect(body.error.hint).toContain("AIRLOCK_PROXY_TIMEOUT_MS");
  });

  it("answers 503 transient when the connection drops", async () => {
    await seedServiceConnection(t, "dropped", "tok_drop");
    answer = () => ({ drop: true });
    const res = await fetch(`${t.url}/v1/proxy/dropped/v0/meta/whoami`, { headers: auth });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("transient");
  });

  it("answers 404 not_found for an unknown connection, without calling upstream", async () => {
    const res = await fetch(`${t.url}/v1/proxy/nobody/v0/meta/whoami`, { headers: auth });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect(upstream.requests).toHaveLength(0);
  });

  it("counts proxied requests by status in /metrics", async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/airlock_proxy_requests_total\{status="429"\} 1/);
    expect(text).toMatch(/airlock_proxy_requests_total\{status="504"\} 1/);
    expect(text).toMatch(/airlock_proxy_duration_seconds_count [1-9]/);
  });
});

describe.each(stores)("proxy against the demo emulator (%s)", (store) => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({ store, start: { keepAlive: false } });
    await connect(t, { identifier: "emu" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("recovers from an access token Airtable no longer accepts (401 → refresh → retry)", async () => {
    expect((await t.api("/v1/proxy/emu/v0/meta/whoami")).status).toBe(200);
    const before = t.service.emulator!.stats();
    // Airtable's clock moves past the token's hour; the service still believes it is fresh.
    t.service.emulator!.advanceClock(61 * 60);
    const res = await t.api("/v1/proxy/emu/v0/meta/whoami");
    expect(res.status).toBe(200);
    const after = t.service.emulator!.stats();
    expect(after.refreshes).toBe(before.refreshes + 1);
    expect(after.api_requests).toBe(before.api_requests + 2);
  });

  it("passes the emulator's 429 with Retry-After through without retrying", async () => {
    const fault = await fetch(`${t.service.emulator!.url}/__emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ api: { status: 429, count: 1, retry_after: 7 } }),
    });
    expect(fault.status).toBe(200);
    const before = t.service.emulator!.stats();
    const res = await t.api("/v1/proxy/emu/v0/meta/bases");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(t.service.emulator!.stats().api_requests).toBe(before.api_requests + 1);
    expect((await t.api("/v1/proxy/emu/v0/meta/bases")).status).toBe(200);
  });
});

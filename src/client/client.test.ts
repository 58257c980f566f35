/**
 * The SDK against the real service (in-process `startService`, demo mode: the emulator over real
 * HTTP, SQLite in a temp folder, and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set). The end user's browser is played by `fetch` with a cookie jar;
 * the emulator auto-approves here (the browser suite covers the real consent page).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "../../test/security/harness.js";
import { continueAction, isConnectLink } from "../../test/support/connect-link.js";
import type { RunningService } from "../server/service.js";
import { AirlockApiError, AirlockClient, isAirlockError } from "./index.js";

let t: TestService;
let service: RunningService;
let airlock: AirlockClient;

/** Follows a connect link like a browser: redirects, cookies, the emulator's auto-approval. */
async function connectLikeABrowser(url: string): Promise<URL> {
  const jar = new Map<string, string>();
  let next = new URL(url);
  let method = "GET";
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(next, {
      method,
      redirect: "manual",
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.headers.get("location");
    if (!location && method === "GET" && res.status === 200 && isConnectLink(next)) {
      // The "Continue to Airtable" page: press Continue (a POST spends the link).
      next = continueAction(await res.text(), next);
      method = "POST";
      continue;
    }
    await res.body?.cancel();
    if (!location) return next;
    next = new URL(location, next);
    method = "GET";
  }
  throw new Error("too many redirects");
}

describe.each(serviceStores("client"))("SDK on the %s store", (store) => {
  beforeAll(async () => {
    t = await startTestService({ store, demoEmulator: { autoApprove: true }, start: { keepAlive: false } });
    service = t.service;
    airlock = new AirlockClient({ baseUrl: service.url, secretKey: SECRET_KEY });
  });

  afterAll(async () => {
    await t?.close();
  });

  describe("AirlockClient against a running service", () => {
    it("creates a connect link, and the connection it makes reads back typed and camelCase", async () => {
      const session = await airlock.createConnectSession({
        identifier: "sdk_user_1",
        scopes: ["data.records:read", "schema.bases:read", "user.email:read"],
        returnUrl: `${service.url}/done`,
      });
      expect(session.url).toBe(`${service.url}/connect/${session.token}`);
      expect(session.expiresAt).toBeInstanceOf(Date);
      expect(session.expiresAt.getTime()).toBeGreaterThan(Date.now());

      const landed = await connectLikeABrowser(session.url);
      expect(landed.pathname).toBe("/done");
      expect(landed.searchParams.get("status")).toBe("connected");

      const connection = await airlock.getConnection("sdk_user_1");
      expect(connection).toMatchObject({
        identifier: "sdk_user_1",
        status: "active",
        statusReason: null,
        scopes: ["data.records:read", "schema.bases:read", "user.email:read"],
        email: "ada.lovelace@example.com",
      });
      expect(connection.airtableUserId).toMatch(/^usr/);
      expect(connection.accessTokenExpiresAt).toBeInstanceOf(Date);
      expect(connection.refreshTokenExpiresAt.getTime()).toBeGreaterThan(
        connection.accessTokenExpiresAt.getTime(),
      );
      expect(connection.createdAt).toBeInstanceOf(Date);

      const events = await airlock.listEvents("sdk_user_1");
      expect(events.map((e) => e.type)).toContain("connection.created");
      expect(events[0]?.createdAt).toBeInstanceOf(Date);
    });

    it("returns a usable access token and proxies Airtable calls as the user", async () => {
      const token = await airlock.getAccessToken("sdk_user_1");
      expect(token.accessToken.length).toBeGreaterThan(10);
      expect(token.expiresAt.getTime() - Date.now()).toBeGreaterThan(5 * 60_000);

      // The token works directly against the (emulated) Airtable API…
      const direct = await fetch(`${service.emulator!.url}/v0/meta/whoami`, {
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(direct.status).toBe(200);

      // …and `request` goes through the proxy, which injects it.
      const whoami = await airlock.request("sdk_user_1", "/v0/meta/whoami");
      expect(whoami.status).toBe(200);
      expect(await whoami.json()).toMatchObject({ id: expect.stringMatching(/^usr/) });

      const bases = (await (await airlock.request("sdk_user_1", "/v0/meta/bases")).json()) as {
        bases: Array<{ id: string }>;
      };
      expect(bases.bases.length).toBeGreaterThan(0);

      // Airtable's own refusals come back as the Response, not as an exception.
      const missing = await airlock.request("sdk_user_1", "/v0/meta/bases/appZZZZZZZZZZZZZZ/tables");
      expect(missing.ok).toBe(false);
      expect([403, 404]).toContain(missing.status);
    });

    it("lists connections page by page and iterates over all of them", async () => {
      for (const identifier of ["sdk_user_2", "sdk_user_3"]) {
        const { url } = await airlock.createConnectSession({ identifier });
        await connectLikeABrowser(url);
      }
      const first = await airlock.listConnections({ limit: 2 });
      expect(first.connections).toHaveLength(2);
      expect(first.nextCursor).not.toBeNull();
      const second = await airlock.listConnections({ limit: 2, cursor: first.nextCursor! });
      const seen = [...first.connections, ...second.connections].map((c) => c.identifier);
      expect(seen).toEqual(["sdk_user_1", "sdk_user_2", "sdk_user_3"]);

      const all: string[] = [];
      for await (const connection of airlock.iterateConnections({ limit: 1 }))
        all.push(connection.identifier);
      expect(all).toEqual(["sdk_user_1", "sdk_user_2", "sdk_user_3"]);

      const active = await airlock.listConnections({ status: "active" });
      expect(active.connections.every((c) => c.status === "active")).toBe(true);
      expect((await airlock.listConnections({ status: "revoked" })).connections).toEqual([]);
    });

    it("throws typed errors with the service's code, hint and status", async () => {
      const unknown = await airlock.getConnection("nobody_here").catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(AirlockApiError);
      expect(unknown).toMatchObject({ code: "not_found", status: 404 });
      expect((unknown as AirlockApiError).hint).not.toBe("");
      expect((unknown as AirlockApiError).requestId).toMatch(/\S/);

      const proxied = await airlock.request("nobody_here", "/v0/meta/whoami").catch((e: unknown) => e);
      expect(proxied).toMatchObject({ code: "not_found", status: 404 });

      const invalid = await airlock
        .createConnectSession({ identifier: "sdk_user_4", scopes: ["webhook.manage"] })
        .catch((e: unknown) => e);
      expect(invalid).toMatchObject({ code: "invalid_input", status: 400 });
      expect((invalid as AirlockApiError).message).toMatch(/webhook/);

      const wrongKey = new AirlockClient({ baseUrl: service.url, secretKey: "sk_wrong_0123456789" });
      const denied = await wrongKey.listConnections().catch((e: unknown) => e);
      expect(denied).toMatchObject({ code: "unauthorized", status: 401 });
      expect((denied as AirlockApiError).retryable).toBe(false);

      const offline = new AirlockClient({ baseUrl: "http://127.0.0.1:9", secretKey: SECRET_KEY });
      const unreachable = await offline.listConnections().catch((e: unknown) => e);
      expect(isAirlockError(unreachable, "transient")).toBe(true);

      expect(() => new AirlockClient({ baseUrl: "not a url", secretKey: SECRET_KEY })).toThrow(/baseUrl/);
      await expect(airlock.request("sdk_user_1", "https://evil.example/v0/x")).rejects.toMatchObject({
        code: "invalid_input",
      });
    });

    it("makes reauth_required distinguishable once Airtable has let the grant lapse", async () => {
      // 61 days pass at Airtable: the access token is long dead and the refresh token has expired.
      service.emulator!.advanceClock(61 * 86_400);
      const error = await airlock.request("sdk_user_2", "/v0/meta/whoami").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AirlockApiError);
      expect((error as AirlockApiError).isReauthRequired).toBe(true);
      expect((error as AirlockApiError).status).toBe(409);
      expect(isAirlockError(error, "reauth_required")).toBe(true);

      const connection = await airlock.getConnection("sdk_user_2");
      expect(connection.status).toBe("reauth_required");
      expect(connection.statusReason).not.toBeNull();

      const token = await airlock.getAccessToken("sdk_user_2").catch((e: unknown) => e);
      expect((token as AirlockApiError).isReauthRequired).toBe(true);

      // Reconnecting the same identifier repairs it in place.
      const { url } = await airlock.createConnectSession({ identifier: "sdk_user_2" });
      await connectLikeABrowser(url);
      expect((await airlock.getConnection("sdk_user_2")).status).toBe("active");
    });

    it("disconnects a connection: it stays as revoked, and its token is refused with isReauthRequired", async () => {
      await airlock.deleteConnection("sdk_user_3");
      expect(await airlock.getConnection("sdk_user_3")).toMatchObject({
        status: "revoked",
        statusReason: "disconnected",
      });
      const token = await airlock.getAccessToken("sdk_user_3").catch((e: unknown) => e);
      expect((token as AirlockApiError).isReauthRequired).toBe(true);
      await airlock.deleteConnection("sdk_user_3");
      await expect(airlock.deleteConnection("sdk_never_connected")).rejects.toMatchObject({
        code: "not_found",
      });
    });
  });
});

describe("AirlockClient facing something that is not Airlock", () => {
  // A load balancer's HTML error page or a wrong baseUrl: the SDK must say so, not crash on JSON.
  const answering = (status: number, body: string, type: string) =>
    new AirlockClient({
      baseUrl: "http://airlock.internal",
      secretKey: SECRET_KEY,
      fetch: async () => new Response(body, { status, headers: { "content-type": type } }),
    });

  it("describes non-Airlock error pages from the status alone", async () => {
    const error = await answering(502, "<html>Bad gateway</html>", "text/html")
      .getConnection("x")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "transient", status: 502, retryable: true });
  });

  it("refuses a success body of the wrong shape", async () => {
    const error = await answering(200, JSON.stringify({ identifier: 42 }), "application/json")
      .getConnection("x")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "internal", status: 200 });
    expect((error as AirlockApiError).details?.issues).toBeDefined();
  });

  it("passes Airtable's own errors through request() untouched", async () => {
    const res = await answering(
      422,
      JSON.stringify({ error: { type: "INVALID_REQUEST_UNKNOWN", message: "Invalid request" } }),
      "application/json",
    ).request("x", "/v0/appXXXXXXXXXXXXXX/Table");
    expect(res.status).toBe(422);
  });
});

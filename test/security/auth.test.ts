/**
 * `/v1/*` needs `Authorization: Bearer <secret key>`: missing, wrong, differently-shaped or
 * misplaced keys get 401 `unauthorized` with a hint, and nothing reaches Airtable (or changes the
 * store: SQLite and, when AIRLOCK_TEST_DATABASE_URL is set, PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, SECRET_KEY, serviceStores, startTestService, type TestService } from "./harness.js";

const ROUTES: Array<[string, string]> = [
  ["POST", "/v1/connect-sessions"],
  ["GET", "/v1/connections"],
  ["GET", "/v1/connections/authed"],
  ["DELETE", "/v1/connections/authed"],
  ["POST", "/v1/connections/authed/access-token"],
  ["GET", "/v1/connections/authed/events"],
  ["GET", "/v1/proxy/authed/v0/meta/whoami"],
  ["POST", "/v1/proxy/authed/v0/appXXXXXXXXXXXXXX/Table"],
  ["GET", "/v1/unknown-route"],
];

const BAD_HEADERS: Array<Record<string, string>> = [
  {},
  { authorization: "" },
  { authorization: "Bearer" },
  { authorization: "Bearer " },
  { authorization: "Bearer wrong-key-of-some-length" },
  { authorization: `Bearer ${SECRET_KEY}x` },
  { authorization: `Bearer ${SECRET_KEY.slice(0, -1)}` },
  { authorization: `Bearer ${SECRET_KEY.toUpperCase()}` },
  { authorization: `Basic ${Buffer.from(`x:${SECRET_KEY}`).toString("base64")}` },
  { authorization: SECRET_KEY },
  { authorization: `Token ${SECRET_KEY}` },
  { authorization: `Bearer ${SECRET_KEY} extra` },
  { "x-api-key": SECRET_KEY },
  { cookie: `secret_key=${SECRET_KEY}` },
];

describe.each(serviceStores("auth"))("secret key on /v1 (%s)", (store) => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({ store });
    await connect(t, { identifier: "authed" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers 401 unauthorized with a hint for every route and every wrong credential", async () => {
    const before = t.service.emulator!.stats();
    for (const [method, path] of ROUTES) {
      for (const headers of BAD_HEADERS) {
        const res = await fetch(`${t.url}${path}`, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          ...(method === "POST" ? { body: JSON.stringify({ identifier: "x" }) } : {}),
        });
        const label = `${method} ${path} ${JSON.stringify(headers)}`;
        expect(res.status, label).toBe(401);
        expect(res.headers.get("www-authenticate"), label).toMatch(/^Bearer/);
        const body = (await res.json()) as { error: { code: string; message: string; hint: string } };
        expect(body.error.code).toBe("unauthorized");
        expect(body.error.hint).toContain("AIRLOCK_SECRET_KEY");
        expect(JSON.stringify(body)).not.toContain(SECRET_KEY);
      }
    }
    const query = await fetch(`${t.url}/v1/connections?access_token=${SECRET_KEY}&key=${SECRET_KEY}`);
    expect(query.status).toBe(401);
    const after = t.service.emulator!.stats();
    expect(after.api_requests).toBe(before.api_requests);
    expect(after.refreshes).toBe(before.refreshes);
    // The connection survived every unauthenticated DELETE.
    expect((await t.api("/v1/connections/authed")).status).toBe(200);
  });

  it("accepts the right key (scheme case-insensitive)", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await fetch(`${t.url}/v1/connections`, {
        headers: { authorization: `${scheme} ${SECRET_KEY}` },
      });
      expect(res.status, scheme).toBe(200);
    }
  });

  it("leaves the browser and operations routes open", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
  });
});

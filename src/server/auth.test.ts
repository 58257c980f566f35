/**
 * requireSecretKey with named API keys (issue 12), in-process with a fake key store and clock: the
 * secret key never reaches the store, a stored key is found by its SHA-256 and held to its scope,
 * its last-used time is written at most once a minute per instance, and unknown keys count toward
 * the wrong-key throttle.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import type { ApiKeyRecord } from "../store/types.js";
import { hashApiKey, scopesFor } from "./api-key-scopes.js";
import { type ApiKeyLookup, requireSecretKey } from "./auth.js";
import { AuthThrottle } from "./auth-throttle.js";
import { statusForCode } from "./http-errors.js";
import type { AppEnv } from "./request-log.js";

const SECRET = "sk_unit_secret_key_0123456789abcdef";
const KEY = "ak_unit_proxy_key";

function harness() {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const lookups: string[] = [];
  const touches: number[] = [];
  const record: ApiKeyRecord = {
    id: "key_unit",
    name: "unit",
    scope: "proxy",
    createdAt: new Date(now),
    lastUsedAt: null,
    revokedAt: null,
  };
  const lookup: ApiKeyLookup = {
    store: {
      findActiveApiKey: async (hash) => {
        lookups.push(hash);
        return hash === hashApiKey(KEY) ? record : null;
      },
      touchApiKey: async (_id, at) => {
        touches.push(at.getTime());
      },
    },
    now: () => new Date(now),
  };
  const throttle = new AuthThrottle({ limits: { perAddress: 3, global: 100 } });
  const app = new Hono<AppEnv>();
  app.use("/v1/*", requireSecretKey(SECRET, throttle, lookup));
  app.all("/v1/*", (c) => c.text("ok"));
  app.onError((error, c) =>
    error instanceof AirlockError
      ? c.json(
          { code: error.code, message: error.message, hint: error.hint },
          statusForCode(error.code) as 400,
        )
      : c.text("boom", 500),
  );
  const call = (key: string, method: string, path: string) =>
    app.request(path, { method, headers: { authorization: `Bearer ${key}` } });
  return { call, lookups, touches, advance: (ms: number) => (now += ms) };
}

describe("requireSecretKey with named API keys", () => {
  it("accepts the secret key without asking the store", async () => {
    const h = harness();
    expect((await h.call(SECRET, "GET", "/v1/connections")).status).toBe(200);
    expect(h.lookups).toEqual([]);
  });

  it("finds a key by its SHA-256 and holds it to its scope", async () => {
    const h = harness();
    expect((await h.call(KEY, "GET", "/v1/proxy/u1/v0/meta/whoami")).status).toBe(200);
    expect(h.lookups).toEqual([hashApiKey(KEY)]);
    const refused = await h.call(KEY, "POST", "/v1/connect-sessions");
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { code: string; message: string; hint: string };
    expect(body.code).toBe("access_denied");
    expect(body.message).toContain("scope `proxy`");
    expect(body.message).toContain("needs `connect` or `admin`");
    expect(body.hint).toContain("--scope connect");
  });

  it("writes the last-used time at most once a minute per key", async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await h.call(KEY, "POST", "/v1/connections/u1/access-token");
    expect(h.touches).toHaveLength(1);
    h.advance(59_000);
    await h.call(KEY, "POST", "/v1/connections/u1/access-token");
    expect(h.touches).toHaveLength(1);
    h.advance(1_000);
    await h.call(KEY, "POST", "/v1/connections/u1/access-token");
    expect(h.touches).toHaveLength(2);
  });

  it("counts unknown keys toward the wrong-key throttle", async () => {
    const h = harness();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await h.call(`ak_guess_${i}`, "GET", "/v1/connections")).status);
    // The third wrong key empties the bucket (still a 401); from then on the address is refused.
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe("scopesFor", () => {
  it("maps each /v1 route to the scopes that may call it", () => {
    expect(scopesFor("POST", "/v1/connect-sessions")).toEqual(["admin", "connect"]);
    expect(scopesFor("GET", "/v1/connect-sessions")).toEqual(["admin"]);
    expect(scopesFor("GET", "/v1/proxy/u1/v0/meta/whoami")).toEqual(["admin", "proxy"]);
    expect(scopesFor("POST", "/v1/connections/u1/access-token")).toEqual(["admin", "proxy"]);
    expect(scopesFor("GET", "/v1/connections/u1/access-token")).toEqual(["admin"]);
    expect(scopesFor("GET", "/v1/connections")).toEqual(["admin"]);
    expect(scopesFor("POST", "/v1/api-keys")).toEqual(["admin"]);
    expect(scopesFor("GET", "/v1/proxyx")).toEqual(["admin"]);
  });
});

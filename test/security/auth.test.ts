/**
 * `/v1/*` needs `Authorization: Bearer <secret key>`: missing, wrong, differently-shaped or
 * misplaced keys get 401 `unauthorized` with a hint, and nothing reaches Airtable (or changes the
 * store: SQLite and, when AIRLOCK_TEST_DATABASE_URL is set, PostgreSQL). Failed keys and failed
 * dashboard sign-ins are throttled per client address and globally (429 `rate_limited` with
 * Retry-After), while the right key from an address that is not blocked keeps working. Clients bind
 * to different loopback addresses (127.0.0.0/8 is all loopback on Linux) to be different addresses.
 */
import { Agent, request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestClock } from "../support/clock.js";
import { connect, SECRET_KEY, serviceStores, startTestService, type TestService } from "./harness.js";

/** A client whose connections come from `localAddress` (a 127.x.y.z address). */
class Client {
  readonly agent: Agent;
  constructor(readonly localAddress: string) {
    this.agent = new Agent({ localAddress, connections: 16 });
  }

  async send(
    url: string,
    init: { method?: "GET" | "POST" | "DELETE"; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const res = await request(url, {
      dispatcher: this.agent,
      method: init.method ?? "GET",
      headers: init.headers ?? {},
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  bearer(base: string, key: string, path = "/v1/connections") {
    return this.send(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The service's URL on 127.0.0.1 (clients bound to a 127.x address cannot reach ::1). */
const ipv4 = (t: TestService) => t.url.replace("//localhost:", "//127.0.0.1:");

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
    for (const [index, [method, path]] of ROUTES.entries()) {
      // Each route from its own address: a few wrong keys each, under the per-address limit.
      const client = new Client(`127.0.1.${index + 1}`);
      for (const headers of BAD_HEADERS) {
        const res = await client.send(`${ipv4(t)}${path}`, {
          method: method as "GET" | "POST" | "DELETE",
          headers: { ...headers, "content-type": "application/json" },
          ...(method === "POST" ? { body: JSON.stringify({ identifier: "x" }) } : {}),
        });
        const label = `${method} ${path} ${JSON.stringify(headers)}`;
        expect(res.status, label).toBe(401);
        expect(String(res.headers["www-authenticate"]), label).toMatch(/^Bearer/);
        const body = JSON.parse(res.text) as { error: { code: string; message: string; hint: string } };
        expect(body.error.code).toBe("unauthorized");
        expect(body.error.hint).toContain("AIRLOCK_SECRET_KEY");
        expect(res.text).not.toContain(SECRET_KEY);
        // A header that is not a Bearer token is told the expected form, not that the key is wrong.
        const authorization = headers.authorization;
        if (authorization !== undefined && !/^Bearer\s+\S+$/i.test(authorization.trim())) {
          expect(body.error.message, label).not.toMatch(/key is wrong/);
          expect(body.error.hint, label).toContain("Authorization: Bearer <AIRLOCK_SECRET_KEY>");
        }
      }
      await client.close();
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

const LIMIT_PER_ADDRESS = 10;

describe("throttling of failed authentication", () => {
  let t: TestService;
  // Stopped: buckets refill only when the test moves the clock, however slow the machine is.
  const clock = new TestClock();
  const clients: Client[] = [];
  const client = (address: string) => {
    const made = new Client(address);
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    t = await startTestService({ start: { now: clock.now, keepAlive: false } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    // Every test starts with released addresses and a full global budget.
    clock.advance(10 * 60_000);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs `count` calls of `one`, `concurrency` at a time, and returns their results in order. */
  async function burst<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
    const results: T[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          results[i] = await one(i);
        }
      }),
    );
    return results;
  }

  function expectRateLimited(res: { status: number; headers: Record<string, unknown>; text: string }) {
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  }

  it("answers 429 with Retry-After after the limit of wrong bearer keys; another address keeps working", async () => {
    const attacker = client("127.0.0.1");
    const started = performance.now();
    const results = await burst(1000, 50, (i) => attacker.bearer(ipv4(t), `sk_guess_${i}_wrong_0123456789`));
    const elapsed = performance.now() - started;
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT_PER_ADDRESS);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1000 - LIMIT_PER_ADDRESS);
    const limited = results.find((r) => r.status === 429)!;
    expectRateLimited(limited);
    const body = JSON.parse(limited.text) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toMatchObject({ code: "rate_limited" });
    expect(body.error.message).toMatch(/failed/i);
    expect(body.error.hint).toContain("Retry-After");
    expect(body.error.hint).toContain("Authorization: Bearer <AIRLOCK_SECRET_KEY>");
    expect(t.logs.text()).toContain("auth.throttled");

    // The blocked address is refused even with the right key (a guess that happens to be right
    // must not show), while the right key from another address works at once.
    expectRateLimited(await attacker.bearer(ipv4(t), SECRET_KEY));
    const app = client("127.0.0.2");
    const ok = await app.bearer(ipv4(t), SECRET_KEY);
    expect(ok.status).toBe(200);
    // The service did not slow down to do it: 1,000 refusals are quick.
    expect(elapsed).toBeLessThan(20_000);

    // After the window the address is released.
    clock.advance(60_000);
    expect((await attacker.bearer(ipv4(t), SECRET_KEY)).status).toBe(200);
  });

  it("never throttles the right key, however often it is used", async () => {
    const app = client("127.0.0.3");
    const results = await burst(300, 20, () => app.bearer(ipv4(t), SECRET_KEY));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // A client with a typo gets its 401s first (with the plain hint), then 429.
    const typo = await burst(LIMIT_PER_ADDRESS, 1, () => app.bearer(ipv4(t), `${SECRET_KEY}x`));
    expect(typo.map((r) => r.status)).toEqual(new Array(LIMIT_PER_ADDRESS).fill(401));
    expectRateLimited(await app.bearer(ipv4(t), `${SECRET_KEY}x`));
  });

  it("throttles wrong dashboard sign-ins the same way (shared with the bearer check)", async () => {
    const signIn = async (c: Client, key: string) => {
      const form = await c.send(`${ipv4(t)}/login`);
      const cookie = [form.headers["set-cookie"] ?? []].flat()[0]?.split(";")[0] ?? "";
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? "";
      return c.send(`${ipv4(t)}/login`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, secret_key: key }).toString(),
      });
    };
    const attacker = client("127.0.0.4");
    const results = await burst(300, 20, (i) => signIn(attacker, `guess-${i}-0123456789abcdef`));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT_PER_ADDRESS);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300 - LIMIT_PER_ADDRESS);
    const limited = results.find((r) => r.status === 429)!;
    expectRateLimited(limited);
    expect(String(limited.headers["content-type"])).toContain("text/html");
    expect(limited.text).toContain("Too many failed sign-ins");
    // The right key from the blocked address is refused too, on the dashboard and on /v1.
    expectRateLimited(await signIn(attacker, SECRET_KEY));
    expectRateLimited(await attacker.bearer(ipv4(t), SECRET_KEY));
    // Another address signs in at once.
    const admin = client("127.0.0.5");
    const ok = await signIn(admin, SECRET_KEY);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/");
    clock.advance(60_000);
    expect((await signIn(attacker, SECRET_KEY)).status).toBe(303);
  });

  it("caps failures from many addresses together: under that pressure an address gets one guess", async () => {
    // 25 addresses with 5 wrong keys each: each stays under its own limit, together they exceed
    // the global one (100 per minute).
    const spread = Array.from({ length: 25 }, (_, i) => client(`127.0.2.${i + 1}`));
    const statuses: number[] = [];
    for (const c of spread) {
      for (let i = 0; i < 5; i++)
        statuses.push((await c.bearer(ipv4(t), `sk_spread_wrong_${i}_abcdef`)).status);
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(100);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // An address that failed before is now blocked even with the right key...
    expectRateLimited(await spread[0]!.bearer(ipv4(t), SECRET_KEY));
    // ...a fresh one with the right key works, and a fresh one with a wrong key gets one try.
    expect((await client("127.0.3.1").bearer(ipv4(t), SECRET_KEY)).status).toBe(200);
    const fresh = client("127.0.3.2");
    expect((await fresh.bearer(ipv4(t), "sk_fresh_wrong_abcdef0123")).status).toBe(401);
    expectRateLimited(await fresh.bearer(ipv4(t), "sk_fresh_wrong_abcdef0124"));
    clock.advance(60_000);
    expect((await spread[0]!.bearer(ipv4(t), SECRET_KEY)).status).toBe(200);
  });
});

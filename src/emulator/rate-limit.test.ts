import { afterAll, describe, expect, it } from "vitest";
import { EmulatorClock } from "./clock.js";
import { BaseRateLimiter } from "./rate-limit.js";
import { type ServedEmulator, send, serveEmulator } from "./test-support.js";
import { loginAutoApproved } from "./testing.js";

function setup() {
  let real = 1_000_000;
  const clock = new EmulatorClock(() => real);
  return { clock, limiter: new BaseRateLimiter(clock), tick: (ms: number) => (real += ms) };
}

describe("BaseRateLimiter", () => {
  it("allows 5 requests per second per base, then blocks for 30 seconds", () => {
    const { clock, limiter, tick } = setup();
    for (let i = 0; i < 5; i++) expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(false);
    expect(limiter.retryAfter("appA")).toBe(30);
    // Another base is independent.
    expect(limiter.allow("appB")).toBe(true);
    // Still blocked after a second, and the penalty is not extended by refused requests.
    tick(1000);
    expect(limiter.allow("appA")).toBe(false);
    clock.advance(28);
    expect(limiter.allow("appA")).toBe(false);
    clock.advance(1);
    expect(limiter.retryAfter("appA")).toBe(0);
    expect(limiter.allow("appA")).toBe(true);
  });

  it("uses a sliding one-second window", () => {
    const { limiter, tick } = setup();
    for (let i = 0; i < 5; i++) {
      expect(limiter.allow("appA")).toBe(true);
      tick(250);
    }
    // Now 1250 ms after the first: the requests at 0 and 250 ms left the window, 3 remain, 2 more fit.
    expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(false);
  });

  it("reset clears penalties", () => {
    const { limiter } = setup();
    for (let i = 0; i < 6; i++) limiter.allow("appA");
    limiter.reset();
    expect(limiter.allow("appA")).toBe(true);
  });
});

describe("the per-base limit over HTTP", () => {
  let emulator: ServedEmulator;
  afterAll(() => emulator.close());

  it("every per-base endpoint (reads, record writes, schema writes, comments, webhooks) shares one window; 429 body as documented", async () => {
    emulator = await serveEmulator({ autoApprove: true });
    const scopes =
      "data.records:read data.records:write schema.bases:read schema.bases:write data.recordComments:write webhook:manage";
    const { access_token } = await loginAutoApproved(emulator.url, scopes);
    const [roadmap, crm] = emulator.state.data.bases;
    const features = roadmap!.tables.find((t) => t.name === "Features")!;
    const record = features.records[0]!.id;
    const requests: [string, string, unknown?][] = [
      ["GET", `/v0/${roadmap!.id}/${features.id}?pageSize=1`],
      ["POST", `/v0/${roadmap!.id}/${features.id}`, { records: [{ fields: { Name: "New" } }] }],
      ["POST", `/v0/${roadmap!.id}/${features.id}/${record}/comments`, { text: "hi" }],
      ["PATCH", `/v0/meta/bases/${roadmap!.id}/tables/${features.id}`, { description: "Changed" }],
      ["GET", `/v0/bases/${roadmap!.id}/webhooks`],
      ["GET", `/v0/meta/bases/${roadmap!.id}/tables`],
    ];
    const answers = [];
    for (const [method, path, body] of requests)
      answers.push(await send(emulator.url, method, path, access_token, body));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers[5]?.json).toEqual({
      error: { type: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" },
    });
    expect(emulator.state.stats.rate_limited).toBe(1);
    // Another base has its own window; whoami is not per base.
    expect((await send(emulator.url, "GET", `/v0/meta/bases/${crm!.id}/tables`, access_token)).status).toBe(
      200,
    );
    expect((await send(emulator.url, "GET", "/v0/meta/whoami", access_token)).status).toBe(200);
    // Blocked for 30 seconds, writes included.
    emulator.state.clock.advance(29);
    expect((await send(emulator.url, "POST", requests[2]![1], access_token, { text: "x" })).status).toBe(429);
    emulator.state.clock.advance(1);
    expect((await send(emulator.url, "POST", requests[2]![1], access_token, { text: "x" })).status).toBe(200);
  });
});

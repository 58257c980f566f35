/**
 * The OAuth callback accepts only a state that exists, is unexpired, unused and bound to this
 * browser. Forged, replayed, expired and cookie-mismatched callbacks are refused before any code
 * exchange (asserted on the emulator's `code_exchanges`), and a mismatch does not consume the state.
 * On SQLite and (when AIRLOCK_TEST_DATABASE_URL is set) PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateState } from "../../src/airtable/pkce.js";
import { TestClock } from "../support/clock.js";
import {
  Browser,
  connect,
  createSession,
  location,
  serviceStores,
  startFlow,
  startTestService,
  type TestService,
} from "./harness.js";

describe.each(serviceStores("state"))("callback state checks (%s)", (store) => {
  let t: TestService;
  const clock = new TestClock({ running: true });
  // The suite runs against the embedded emulator; without it there is nothing to count, so fail loudly.
  const exchanges = () => {
    const emulator = t.service.emulator;
    if (!emulator) throw new Error("state suite needs the embedded emulator (demo mode) to count exchanges");
    return emulator.stats().code_exchanges;
  };

  beforeAll(async () => {
    t = await startTestService({ store, start: { now: clock.now, keepAlive: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("refuses a callback without a state, or with a malformed one", async () => {
    const before = exchanges();
    for (const query of [
      "?code=abc",
      "?code=abc&state=short",
      "?code=abc&state=has%20spaces%20in%20it%20ok",
      "",
    ]) {
      const res = await new Browser().get(`${t.url}/oauth/callback${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/text\/html/);
    }
    expect(exchanges()).toBe(before);
  });

  it("refuses a forged state (well-formed, never issued), even with a binding cookie", async () => {
    const browser = new Browser();
    // Give the browser a real binding cookie first.
    await startFlow(t, browser, { identifier: "forge_victim" });
    const before = exchanges();
    const forged = await browser.get(`${t.url}/oauth/callback?code=stolen_code&state=${generateState()}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("unknown");
    expect(exchanges()).toBe(before);
    expect((await t.api("/v1/connections/forge_victim")).status).toBe(404);
  });

  it("refuses a replayed callback (state already used), without a second exchange", async () => {
    const browser = new Browser();
    const steps = await connect(t, { identifier: "replay_user" }, browser);
    expect(steps.final.status).toBe(200);
    const before = exchanges();
    const replay = await browser.get(steps.callbackUrl);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("already completed");
    expect(exchanges()).toBe(before);
  });

  it("lets exactly one of two simultaneous callbacks with the same state through", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, { identifier: "race_user" });
    const before = exchanges();
    const results = await Promise.all([browser.get(steps.callbackUrl), browser.get(steps.callbackUrl)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(exchanges()).toBe(before + 1);
  });

  it("refuses an expired state (consent open for more than 10 minutes)", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, { identifier: "slow_user" });
    clock.advance(10 * 60_000 + 1000);
    try {
      const before = exchanges();
      const res = await browser.get(steps.callbackUrl);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("expired");
      expect(exchanges()).toBe(before);
      expect((await t.api("/v1/connections/slow_user")).status).toBe(404);
    } finally {
      clock.advance(-(10 * 60_000 + 1000));
    }
  });

  it("refuses an expired connect link (30 minutes) without creating a pending authorization", async () => {
    const session = await createSession(t, { identifier: "late_user" });
    clock.advance(30 * 60_000 + 1000);
    try {
      const res = await new Browser().get(session.url);
      expect(res.status).toBe(410);
    } finally {
      clock.advance(-(30 * 60_000 + 1000));
    }
  });

  it("refuses a callback from another browser, and that attempt does not consume the state", async () => {
    const victim = new Browser();
    const steps = await startFlow(t, victim, { identifier: "bound_user" });
    const before = exchanges();

    const attacker = new Browser();
    const foreign = await attacker.get(steps.callbackUrl);
    expect(foreign.status).toBe(400);
    const shown = await foreign.text();
    expect(shown).toContain("different browser");
    // Links are single use: never "open the connect link again".
    expect(shown).toContain("ask the app for a new link");
    expect(shown).not.toContain("link again");

    // An attacker with their own (valid) binding cookie fares no better.
    await startFlow(t, attacker, { identifier: "attacker_own" });
    const withOwnCookie = await attacker.get(steps.callbackUrl);
    expect(withOwnCookie.status).toBe(400);

    const tampered = new Browser();
    tampered.cookies(t.url).set("airlock_binding", "A".repeat(43));
    expect((await tampered.get(steps.callbackUrl)).status).toBe(400);
    expect(exchanges()).toBe(before);

    // The right browser can still finish.
    const own = await victim.get(steps.callbackUrl);
    expect(own.status).toBe(200);
    expect(exchanges()).toBe(before + 1);
    expect((await t.api("/v1/connections/bound_user")).status).toBe(200);
  });

  it("sets the binding cookie HttpOnly and SameSite=Lax", async () => {
    const session = await createSession(t, { identifier: "cookie_user" });
    const res = await fetch(session.url, { method: "POST", redirect: "manual" });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("airlock_binding="));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("turns Airtable's error redirect into status=error on the return_url, and consumes the state", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, { identifier: "deny_user", return_url: `${t.url}/after` });
    const denied = new URL(steps.callbackUrl);
    denied.searchParams.delete("code");
    denied.searchParams.set("error", "access_denied");
    denied.searchParams.set("error_description", "The user denied access");
    const before = exchanges();
    const res = await browser.get(denied.href);
    expect(res.status).toBe(302);
    const back = new URL(location(res));
    expect(back.origin + back.pathname).toBe(`${t.url}/after`);
    expect(back.searchParams.get("status")).toBe("error");
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(exchanges()).toBe(before);
    // The state is spent: the real code cannot be redeemed afterwards.
    expect((await browser.get(steps.callbackUrl)).status).toBe(400);
    expect((await t.api("/v1/connections/deny_user")).status).toBe(404);
  });

  it("shows a friendly page for Airtable's error redirect when there is no return_url", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, { identifier: "deny_page" });
    const denied = new URL(steps.callbackUrl);
    denied.searchParams.delete("code");
    denied.searchParams.set("error", "access_denied");
    const res = await browser.get(denied.href);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain("access_denied");
    expect(text).toMatch(/<h1>We could not connect your Airtable account<\/h1>/);
  });

  it("reports a rejected code (invalid_grant) as status=error without storing anything", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, { identifier: "bad_code", return_url: `${t.url}/after` });
    const wrong = new URL(steps.callbackUrl);
    wrong.searchParams.set("code", "not-the-code-airtable-issued");
    const res = await browser.get(wrong.href);
    expect(res.status).toBe(302);
    const back = new URL(location(res));
    expect(back.searchParams.get("status")).toBe("error");
    expect(back.searchParams.get("error")).toBe("invalid_grant");
    expect((await t.api("/v1/connections/bad_code")).status).toBe(404);
  });
});

/**
 * A connect session's `expected_email` (issue 12), through the real connect flow on SQLite and
 * (with AIRLOCK_TEST_DATABASE_URL) PostgreSQL. The emulator's one user is ada.lovelace@example.com:
 * expecting her (in any case) connects; expecting someone else creates no connection, leaves a
 * reconnected one's version and tokens alone, and tells the browser which account (masked) to use;
 * a session whose scopes lack user.email:read is refused. No full email reaches the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/server/http-errors.js";
import {
  connect,
  createSession,
  location,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";

const ADA = "ada.lovelace@example.com";
const SOMEONE = "someone@example.com";

describe.each(serviceStores("service-expected-email"))("expected_email over HTTP (%s)", (store) => {
  let t: TestService;

  const post = (body: unknown) =>
    t.api("/v1/connect-sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await startTestService({ store });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("connects when the consenting account is the expected one, in any case", async () => {
    const steps = await connect(t, { identifier: "expect_ada", expected_email: "Ada.LOVELACE@Example.com" });
    expect(steps.final.status).toBe(200);
    const connection = (await (await t.api("/v1/connections/expect_ada")).json()) as Record<string, unknown>;
    expect(connection).toMatchObject({ status: "active", email: ADA });
  });

  it("refuses another account with a page naming the expected one (masked) and stores nothing", async () => {
    const before = t.logs.lines.length;
    const steps = await connect(t, { identifier: "expect_other", expected_email: SOMEONE });
    expect(steps.final.status).toBe(400);
    const page = await steps.final.text();
    expect(page).toContain("s***@example.com");
    expect(page).toContain("Sign in to Airtable as s***@example.com");
    expect(page).toContain("new link");
    expect(page).not.toContain(SOMEONE);
    expect((await t.api("/v1/connections/expect_other")).status).toBe(404);
    expect(await t.service.ctx.store.getConnection("expect_other")).toBeNull();
    const logged = t.logs.lines.slice(before).join("\n");
    expect(logged).toContain("wrong_account");
    expect(logged).toContain("s***@example.com");
    expect(logged).not.toContain(SOMEONE);
    expect(logged).not.toContain(ADA);
  });

  it("sends the browser back to return_url with error=wrong_account", async () => {
    const returnUrl = `${t.url}/done`;
    const steps = await connect(t, {
      identifier: "expect_back",
      expected_email: SOMEONE,
      return_url: returnUrl,
    });
    expect(steps.final.status).toBe(302);
    const back = new URL(location(steps.final));
    expect(`${back.origin}${back.pathname}`).toBe(returnUrl);
    expect(Object.fromEntries(back.searchParams)).toEqual({
      status: "error",
      error: "wrong_account",
      identifier: "expect_back",
    });
    expect(await t.service.ctx.store.getConnection("expect_back")).toBeNull();
  });

  it("a reconnect by another account leaves the existing connection as it was", async () => {
    await connect(t, { identifier: "expect_reconnect", metadata: { v: 1 } });
    const before = await t.service.ctx.store.getConnection("expect_reconnect");
    const steps = await connect(t, {
      identifier: "expect_reconnect",
      expected_email: SOMEONE,
      metadata: { v: 2 },
    });
    expect(steps.final.status).toBe(400);
    const after = await t.service.ctx.store.getConnection("expect_reconnect");
    expect(after?.version).toBe(before?.version);
    expect(after?.accessToken).toBe(before?.accessToken);
    expect(after?.refreshToken).toBe(before?.refreshToken);
    expect(after?.metadata).toEqual({ v: 1 });
    expect(after?.status).toBe("active");
  });

  it("refuses expected_email without the user.email:read scope, naming the fix", async () => {
    const res = await post({
      identifier: "expect_scope",
      scopes: ["data.records:read"],
      expected_email: ADA,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_input");
    expect(body.error.message).toContain("user.email:read");
    expect(body.error.hint).toContain("Add user.email:read to scopes");
    const withScope = await createSession(t, {
      identifier: "expect_scope",
      scopes: ["data.records:read", "user.email:read"],
      expected_email: ADA,
    });
    expect(withScope.url).toContain("/connect/");
  });

  it.each([
    ["not an email", "ada"],
    ["too long", `${"a".repeat(250)}@example.com`],
  ])("refuses an expected_email that is %s", async (_what, email) => {
    const res = await post({ identifier: "expect_bad", expected_email: email });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_input");
  });
});

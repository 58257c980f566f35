/**
 * No open redirects: `return_url` must be on the public URL's origin or in
 * AIRLOCK_ALLOWED_RETURN_ORIGINS, checked when the session is created and again before redirecting.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret, randomToken } from "../../src/server/secrets.js";
import {
  Browser,
  connect,
  location,
  startFlow,
  startTestService,
  type TestService,
  useConnectLink,
} from "./harness.js";

describe("return_url validation", () => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({ env: { AIRLOCK_ALLOWED_RETURN_ORIGINS: "https://app.example.com" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (return_url: string) =>
    t.api("/v1/connect-sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identifier: "redir_user", return_url }),
    });

  it("refuses other origins and every trick that reaches one", async () => {
    const host = new URL(t.url).host;
    const hostile = [
      "https://evil.example/after",
      "//evil.example/after",
      "///evil.example/after",
      "/\\evil.example/after",
      "\\\\evil.example",
      "javascript:alert(document.cookie)",
      "JavaScript:alert(1)//http://localhost",
      "data:text/html,<script>alert(1)</script>",
      `http://${host}@evil.example/after`,
      `http://user:pass@${host}/after`,
      `http://${host}.evil.example/after`,
      `http://evil.example\\@${host}/after`,
      `http://evil.example#@${host}/after`,
      `http://evil.example?@${host}/after`,
      ` http://${host}/after`,
      `http://${host}/after\nLocation: https://evil.example`,
      "https://app.example.com.evil.example/after",
      "http://app.example.com/after",
      "https://app.example.com:444/after",
      "/relative/path",
      "ftp://app.example.com/x",
    ];
    for (const url of hostile) {
      const res = await create(url);
      expect(res.status, url).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; hint: string } };
      expect(body.error.code, url).toBe("invalid_input");
      expect(body.error.message).toContain("return_url");
      expect(body.error.hint).toContain("AIRLOCK_ALLOWED_RETURN_ORIGINS");
    }
  });

  it("accepts the service's own origin and the allowed ones", async () => {
    for (const url of [
      `${t.url}/after?x=1`,
      "https://app.example.com/settings/airtable",
      "https://APP.example.com/x",
    ]) {
      expect((await create(url)).status, url).toBe(201);
    }
  });

  it("redirects to an allowed origin with status=connected", async () => {
    const steps = await connect(t, {
      identifier: "app_user",
      return_url: "https://app.example.com/done?tab=1",
    });
    expect(steps.final.status).toBe(302);
    const back = new URL(location(steps.final));
    expect(back.origin).toBe("https://app.example.com");
    expect(back.searchParams.get("tab")).toBe("1");
    expect(back.searchParams.get("status")).toBe("connected");
  });

  it("checks again at redirect time: a stored return_url that is no longer allowed is not followed", async () => {
    // A session row whose return_url is not (or no longer) allowed, e.g. after the allow-list shrank.
    const token = randomToken();
    await t.service.ctx.store.createConnectSession({
      tokenHash: hashSecret(token),
      identifier: "stale_user",
      scopes: t.service.ctx.config.airtable.scopes,
      returnUrl: "https://evil.example/steal",
      expiresAt: new Date(Date.now() + 60_000),
    });
    const browser = new Browser();
    const toAirtable = await useConnectLink(browser, `${t.url}/connect/${token}`);
    expect(toAirtable.status).toBe(302);
    const back = await browser.get(location(toAirtable));
    const final = await browser.get(location(back));
    expect(final.status).toBe(200);
    expect(final.headers.get("location")).toBeNull();
    expect(await final.text()).toContain("Airtable connected");
  });

  it("never redirects to a return_url on error paths before the state is trusted", async () => {
    const browser = new Browser();
    const steps = await startFlow(t, browser, {
      identifier: "err_user",
      return_url: "https://app.example.com/x",
    });
    // Another browser's callback: refused with a page, never a redirect to the (valid) return_url.
    const foreign = await new Browser().get(steps.callbackUrl);
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("location")).toBeNull();
  });
});

/**
 * Every HTML page the service serves carries the dashboard's Content-Security-Policy, with
 * `frame-ancestors 'none'` (no clickjacking of a consent flow): the connect link's pages, the OAuth
 * callback's pages, and the HTML 404 page. Malformed input on those browser routes (a 10 KB token,
 * repeated query parameters) gets a page or the documented `{error: {code, message, hint}}`, never
 * a raw validation dump. On SQLite and (when AIRLOCK_TEST_DATABASE_URL is set) PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, connect, serviceStores, startTestService, type TestService } from "./harness.js";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** The page's CSP is the dashboard's: nothing but same-origin styles and scripts, no framing. */
function expectPageHeaders(res: Response, what: string): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("style-src 'self'");
  expect(csp, what).toContain("form-action 'self'");
  expect(res.headers.get("x-frame-options"), what).toBe("DENY");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
}

describe.each(serviceStores("pages"))("HTML pages (%s)", (store) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ store, start: { keepAlive: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("puts the CSP and frame-ancestors 'none' on the connect link's and the callback's pages", async () => {
    const dead = await new Browser().get(`${t.url}/connect/${"x".repeat(43)}`);
    expect(dead.status).toBe(410);
    expectPageHeaders(dead, "dead connect link");

    const open = await new Browser().get(`${t.url}/oauth/callback?state=nope`);
    expect(open.status).toBe(400);
    expectPageHeaders(open, "refused callback");

    const done = await connect(t, { identifier: "csp_user" });
    expect(done.final.status).toBe(200);
    expectPageHeaders(done.final, "connected page");
    // The page's stylesheet is same-origin (inline styles would be blocked by this CSP).
    const html = await done.final.text();
    const css = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
    expect(html).not.toContain("<style");
    expect(css).toMatch(/^\/assets\//);
    const sheet = await fetch(`${t.url}${css}`);
    expect(sheet.status).toBe(200);
    expect(sheet.headers.get("content-type")).toContain("text/css");
  });

  it("answers a 10 KB connect token with the dead-link page, never a raw ZodError", async () => {
    const token = "A".repeat(10 * 1024);
    for (const accept of [BROWSER_ACCEPT, "application/json", "*/*"]) {
      const res = await fetch(`${t.url}/connect/${token}`, { headers: { accept } });
      const text = await res.text();
      expect(res.status, accept).toBe(410);
      expect(text, accept).not.toContain("ZodError");
      expect(text, accept).not.toContain('"issues"');
      expect(text, accept).toContain("This link cannot be used");
      expectPageHeaders(res, `10 KB token, ${accept}`);
    }
  });

  it("answers repeated callback parameters with a page for browsers and the error body for others", async () => {
    const query = "?state=a&state=b&code=c";
    const page = await fetch(`${t.url}/oauth/callback${query}`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expectPageHeaders(page, "repeated state, browser");
    const pageText = await page.text();
    expect(pageText).toContain("We could not connect your Airtable account");
    expect(pageText).not.toContain("ZodError");

    const api = await fetch(`${t.url}/oauth/callback${query}`, { headers: { accept: "application/json" } });
    expect(api.status).toBe(400);
    const body = (await api.json()) as { error?: { code: string; message: string; hint: string } };
    expect(body.error?.code).toBe("invalid_input");
    expect(body.error?.hint).toBeTruthy();
  });
});

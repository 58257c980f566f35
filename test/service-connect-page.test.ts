/**
 * The connect link's "Continue to Airtable" page over real HTTP (demo emulator, auto-approve; SQLite,
 * and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set): a GET is a read (link previewers cannot
 * spend a link), the page's POST spends it, a POST another site's page makes is refused, and popup
 * mode ends in a page that posts the outcome to the return_url's origin instead of a redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  createSession,
  location,
  serviceStores,
  startTestService,
  type TestService,
  useConnectLink,
} from "./security/harness.js";
import { continueAction } from "./support/connect-link.js";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** The emulator (auto-approve) and the callback, after the Continue POST's redirect. */
async function finish(browser: Browser, toAirtable: Response): Promise<Response> {
  expect(toAirtable.status).toBe(302);
  const back = await browser.get(location(toAirtable));
  expect(back.status).toBe(302);
  return browser.get(location(back));
}

/** One popup-mode flow in `browser` up to the callback's answer. */
async function popupFlow(browser: Browser, url: string): Promise<Response> {
  const popupUrl = `${url}?mode=popup`;
  const page = await browser.get(popupUrl, { headers: { accept: BROWSER_ACCEPT } });
  expect(page.status).toBe(200);
  const action = continueAction(await page.text(), popupUrl);
  expect(action.search).toBe("?mode=popup");
  return finish(browser, await browser.post(action.href));
}

/** The popup page's data: the message and where it may go. */
function popupData(html: string): { message: unknown; targetOrigin: string; returnUrl: string } {
  const attr = (name: string) =>
    (new RegExp(`${name}="([^"]*)"`).exec(html)?.[1] ?? "").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
  return {
    message: JSON.parse(attr("data-message") || "null"),
    targetOrigin: attr("data-target-origin"),
    returnUrl: attr("data-return-url"),
  };
}

describe.each(serviceStores("connect page"))("connect link page (%s)", (store) => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({
      store,
      env: { AIRLOCK_ALLOWED_RETURN_ORIGINS: "https://app.example" },
      start: { keepAlive: false },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const connectionStatus = async (identifier: string) =>
    (await t.api(`/v1/connections/${identifier}`)).status;

  it("GET shows Continue and spends nothing: two GETs, then the POST connects; then the link is dead", async () => {
    const session = await createSession(t, { identifier: "page_twice" });
    const browser = new Browser();
    for (let i = 0; i < 2; i++) {
      const page = await browser.get(session.url, { headers: { accept: BROWSER_ACCEPT } });
      expect(page.status).toBe(200);
      expect(page.headers.get("cache-control")).toBe("no-store");
      expect(page.headers.get("set-cookie")).toBeNull();
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      // The form's POST is answered with a redirect to Airtable: form-action must allow exactly that origin.
      expect(csp).toContain(`form-action 'self' ${t.service.emulator?.url}`);
      const html = await page.text();
      expect(html).not.toMatch(/<script>|<style|\son\w+="/);
      expect(html).toContain("Continue to Airtable");
      expect(continueAction(html, session.url).pathname).toBe(new URL(session.url).pathname);
    }
    const final = await finish(browser, await browser.post(session.url));
    expect(final.status).toBe(200);
    expect(await final.text()).toContain("Airtable connected");
    expect(await connectionStatus("page_twice")).toBe(200);

    const again = await browser.get(session.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("already used");
    expect((await browser.post(session.url)).status).toBe(410);
  });

  it("a link previewer's plain GET leaves the link working for the user", async () => {
    const session = await createSession(t, { identifier: "previewed", return_url: `${t.url}/after` });
    // Chat apps and mail scanners fetch links with no cookies, any Accept, and follow redirects.
    const preview = await fetch(session.url, { headers: { "user-agent": "Slackbot-LinkExpanding 1.0" } });
    expect(preview.status).toBe(200);
    await preview.text();
    expect(await connectionStatus("previewed")).toBe(404);

    const user = new Browser();
    const final = await finish(user, await useConnectLink(user, session.url));
    const back = new URL(location(final));
    expect(back.searchParams.get("status")).toBe("connected");
    expect(await connectionStatus("previewed")).toBe(200);
  });

  it("a dead link gets the 410 page on GET and POST (unknown, malformed, used)", async () => {
    const dead = [`${t.url}/connect/${"x".repeat(43)}`, `${t.url}/connect/short`];
    const used = await createSession(t, { identifier: "used_up" });
    await useConnectLink(new Browser(), used.url);
    dead.push(used.url);
    for (const url of dead) {
      const got = await fetch(url, { headers: { accept: BROWSER_ACCEPT } });
      expect(got.status, url).toBe(410);
      expect(await got.text()).toContain("This link cannot be used");
      const posted = await new Browser().post(url);
      expect(posted.status, url).toBe(410);
      expect(posted.headers.get("location")).toBeNull();
    }
  });

  it("refuses a POST another site's page made, and the link still works", async () => {
    const session = await createSession(t, { identifier: "forged_post" });
    for (const site of ["cross-site", "same-site"]) {
      const forged = await new Browser().post(session.url, {
        headers: { "sec-fetch-site": site, origin: "https://evil.example" },
      });
      expect(forged.status, site).toBe(403);
      expect(forged.headers.get("set-cookie"), site).toBeNull();
      expect(await forged.text()).toContain("The link still works");
    }
    // No Sec-Fetch-Site (curl, an old browser): not a cross-site forgery; our own page's POST is
    // same-origin (its Origin is "null": the page sends no referrer).
    const browser = new Browser();
    const ok = await browser.post(session.url, { headers: { origin: "null" } });
    expect((await finish(browser, ok)).status).toBe(200);
    expect(t.logs.text()).not.toContain(session.token);
  });

  it("popup mode ends in a page that posts the outcome to the return_url's origin only", async () => {
    const returnUrl = "https://app.example/settings?tab=airtable";
    const session = await createSession(t, { identifier: "popup_user", return_url: returnUrl });
    const browser = new Browser();
    const final = await popupFlow(browser, session.url);
    expect(final.status).toBe(200);
    expect(final.headers.get("location")).toBeNull();
    expect(final.headers.get("cross-origin-opener-policy")).toBeNull();
    const html = await final.text();
    expect(html).toMatch(/<script src="\/assets\/connect\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    expect(html).not.toMatch(/<script>|\son\w+="/);
    const data = popupData(html);
    expect(data.message).toEqual({ type: "airlock:connect", status: "connected", identifier: "popup_user" });
    expect(data.targetOrigin).toBe("https://app.example");
    const fallback = new URL(data.returnUrl);
    expect(fallback.searchParams.get("tab")).toBe("airtable");
    expect(fallback.searchParams.get("status")).toBe("connected");
    // The popup mark is cleared with the flow.
    expect(final.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^airlock_popup_[\w-]{16}=; Max-Age=0/),
    ]);
    expect(await connectionStatus("popup_user")).toBe(200);

    const script = await fetch(`${t.url}/assets/connect.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("text/javascript");
    expect(await script.text()).toContain("postMessage(message, result.dataset.targetOrigin)");
  });

  it("popup mode reports an error as a message too, and a redirect flow in the same browser still redirects", async () => {
    const browser = new Browser();
    const popup = await createSession(t, { identifier: "popup_deny", return_url: "https://app.example/x" });
    const plain = await createSession(t, { identifier: "plain_same_browser", return_url: `${t.url}/after` });
    // Both started before either comes back.
    const popupPage = await browser.get(`${popup.url}?mode=popup`);
    const toAirtablePopup = await browser.post(continueAction(await popupPage.text(), popup.url).href);
    const toAirtablePlain = await useConnectLink(browser, plain.url);

    const plainBack = await browser.get(location(await browser.get(location(toAirtablePlain))));
    expect(plainBack.status).toBe(302);
    expect(new URL(location(plainBack)).searchParams.get("status")).toBe("connected");

    const callback = new URL(location(await browser.get(location(toAirtablePopup))));
    callback.searchParams.delete("code");
    callback.searchParams.set("error", "access_denied");
    const denied = await browser.get(callback.href);
    expect(denied.headers.get("location")).toBeNull();
    expect(popupData(await denied.text()).message).toEqual({
      type: "airlock:connect",
      status: "error",
      error: "access_denied",
      identifier: "popup_deny",
    });
  });

  it("serves the airlock/connect module at /connect.js for any origin's pages", async () => {
    const res = await fetch(`${t.url}/connect.js`, { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/javascript");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const source = await res.text();
    expect(source).toContain("export function connect(");
    expect(source).not.toContain("sourceMappingURL");
    expect(source).not.toMatch(/^import /m);
  });

  it("popup mode needs a return_url: the page says so and the link stays live", async () => {
    const session = await createSession(t, { identifier: "popup_no_return" });
    const page = await fetch(`${session.url}?mode=popup`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain("cannot open in a popup");
    expect(html).toContain("return_url");
    const browser = new Browser();
    expect((await finish(browser, await useConnectLink(browser, session.url))).status).toBe(200);
  });
});

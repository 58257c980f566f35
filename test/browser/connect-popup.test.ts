/**
 * Acceptance for `airlock/connect` in a real headless chromium: an app page on its own origin
 * (test/support/popup-connect.ts) calls `connect({ url })`; the popup shows "Continue to Airtable",
 * the emulator's REAL consent page is answered, and the promise resolves with the outcome the popup
 * posted. Also: a closed popup resolves `closed`, a message from another origin is ignored, and a
 * blocked popup falls back to a redirect to the link. The service runs in this process (demo mode,
 * consent not auto-approved) and allows the app's origin as a return_url origin.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSession, startTestService, type TestService } from "../security/harness.js";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";
import {
  APP_RETURN_PATH,
  appResult,
  type ConnectApp,
  grantAccess,
  openPopup,
  popupConnect,
  startConnectApp,
} from "../support/popup-connect.js";

const SUITE = "airlock/connect popup in chromium";
announceChromiumSkip(SUITE);

describe.skipIf(chromiumMissing() !== undefined)(SUITE, () => {
  let app: ConnectApp;
  let t: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    app = await startConnectApp();
    t = await startTestService({
      env: { AIRLOCK_ALLOWED_RETURN_ORIGINS: app.origin },
      demoEmulator: { autoApprove: false },
      start: { keepAlive: false },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await app?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(app.url);
  });
  afterEach(async () => {
    await context?.close();
  });

  const link = async (identifier: string) =>
    (await createSession(t, { identifier, return_url: `${app.origin}${APP_RETURN_PATH}` })).url;
  const status = async (identifier: string) =>
    ((await (await t.api(`/v1/connections/${identifier}`)).json()) as { status?: string }).status;

  it("connects through the popup and resolves { status: connected, identifier }; a forged message is ignored", async () => {
    const url = await link("popup_user");
    const result = await popupConnect(page, url, async (popup) => {
      // A message from the app's own origin (not the service's, not the popup) must not count.
      await page.evaluate(
        'window.postMessage({ type: "airlock:connect", status: "connected", identifier: "forged" }, "*")',
      );
      await grantAccess(popup);
    });
    expect(result).toEqual({ status: "connected", identifier: "popup_user" });
    expect(await status("popup_user")).toBe("active");
    // The app's page never left: the outcome came by message, not by a redirect.
    expect(page.url()).toBe(app.url);
  });

  it("a double click on Continue still connects (the page ignores the second submit)", async () => {
    const popup = await openPopup(page, await link("popup_double"));
    const closed = popup.waitForEvent("close");
    await popup.getByRole("button", { name: "Continue to Airtable" }).dblclick();
    await grantAccess(popup);
    await closed;
    expect(await appResult(page)).toEqual({ status: "connected", identifier: "popup_double" });
  });

  it("resolves { status: error } when the user cancels on Airtable", async () => {
    const result = await popupConnect(page, await link("popup_cancel"), async (popup) => {
      await popup.getByRole("heading", { name: /wants to access your Airtable account/ }).waitFor();
      await popup.getByRole("button", { name: "Cancel" }).click();
    });
    expect(result).toEqual({ status: "error", error: "access_denied", identifier: "popup_cancel" });
  });

  it("resolves { status: closed } when the user closes the popup, and the unpressed link still works", async () => {
    const url = await link("popup_closed");
    const popup = await openPopup(page, url);
    await popup.getByRole("button", { name: "Continue to Airtable" }).waitFor();
    await popup.close();
    expect(await appResult(page)).toEqual({ status: "closed" });
    // Continue was never pressed: the link was not spent.
    expect(await popupConnect(page, url)).toEqual({ status: "connected", identifier: "popup_closed" });
  });

  it("imports the module the service serves at /connect.js from the app's page (another origin)", async () => {
    // A string, so vitest leaves this import() alone: it runs in the page.
    const kind = await page.evaluate(
      `import(${JSON.stringify(`${t.url}/connect.js`)}).then((m) => typeof m.connect)`,
    );
    expect(kind).toBe("function");
  });

  it("falls back to a redirect to the link where popups are blocked", async () => {
    await page.addInitScript("window.open = () => null;");
    await page.reload();
    const url = await link("popup_blocked");
    await page.locator("#url").fill(url);
    await page.locator("#connect").click();
    await page.getByRole("button", { name: "Continue to Airtable" }).click();
    await grantAccess(page);
    await page.waitForURL((landed) => landed.pathname === APP_RETURN_PATH);
    const back = new URL(page.url());
    expect(back.searchParams.get("status")).toBe("connected");
    expect(back.searchParams.get("identifier")).toBe("popup_blocked");
    expect(await status("popup_blocked")).toBe("active");
  });
});

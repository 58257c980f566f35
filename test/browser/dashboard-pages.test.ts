/**
 * The dashboard's pages in a real headless chromium against the real service (in-process, demo
 * mode, SQLite): an identifier over the limit is refused with a message rather than cut by the
 * browser; a 255-character identifier wraps or truncates instead of stretching pages sideways;
 * "Try it" leaves URLs that can be reloaded; an unknown page is an HTML page, not JSON.
 * Screenshots land in test-artifacts/browser/.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, SECRET_KEY, startTestService, type TestService } from "../security/harness.js";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";

const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/browser");
const missing = chromiumMissing() !== undefined;
announceChromiumSkip("dashboard pages in chromium");

const LONG_ID = `u${"x".repeat(254)}`;

let t: TestService;
let browser: Browser;

async function signedInPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${t.url}/login`);
  await page.getByLabel("Secret key").fill(SECRET_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Connections" }).waitFor();
  return page;
}

/** True when the page does not scroll sideways. */
async function fitsWidth(page: Page): Promise<boolean> {
  const fits: unknown = await page.evaluate(
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth",
  );
  return fits === true;
}

describe.skipIf(missing)("dashboard pages in chromium", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestService({ start: { keepAlive: false } });
    await connect(t, { identifier: LONG_ID });
    await connect(t, { identifier: "try_user" });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("refuses an identifier over 255 characters with a message instead of cutting it", async () => {
    const page = await signedInPage();
    await page.getByLabel("Identifier").fill("a".repeat(300));
    expect((await page.getByLabel("Identifier").inputValue()).length).toBe(300);
    await page.getByRole("button", { name: "Create connect link" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain(
      "The identifier is 300 characters long; at most 255 are allowed.",
    );
    await page.screenshot({ path: join(ARTIFACTS, "10-identifier-too-long.png"), fullPage: true });
    await page.context().close();
  }, 60_000);

  it("keeps every page within the window for a 255-character identifier, with the full id in a title", async () => {
    const page = await signedInPage();
    const encoded = encodeURIComponent(LONG_ID);
    expect(await fitsWidth(page), "connections list").toBe(true);
    await expect(page.locator(`a[href="/connections/${encoded}"]`).getAttribute("title")).resolves.toBe(
      LONG_ID,
    );
    await page.screenshot({ path: join(ARTIFACTS, "11-long-identifier-list.png"), fullPage: true });

    for (const path of [`/connections/${encoded}`, `/connections/${encoded}/disconnect`]) {
      await page.goto(`${t.url}${path}`);
      expect(await fitsWidth(page), path).toBe(true);
    }
    await page.screenshot({ path: join(ARTIFACTS, "12-long-identifier-disconnect.png"), fullPage: true });
    await page.goto(`${t.url}/connections/${encoded}`);
    await page.getByRole("button", { name: "List bases" }).click();
    await page.locator("caption", { hasText: "Bases" }).waitFor();
    expect(await fitsWidth(page), "connection page with Try it").toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "13-long-identifier-connection.png"), fullPage: true });

    await page.goto(`${t.url}/`);
    await page.getByLabel("Identifier").fill(LONG_ID);
    await page.getByRole("button", { name: "Create connect link" }).click();
    await page.locator("#connect-url").waitFor();
    expect(await fitsWidth(page), "connect link page").toBe(true);
    await page.context().close();
  }, 60_000);

  it("leaves Try it URLs that reload to the same result, and shows unknown pages as HTML", async () => {
    const page = await signedInPage();
    await page.goto(`${t.url}/connections/try_user`);
    await page.getByRole("button", { name: "List bases" }).click();
    const bases = page.locator("table", { has: page.locator("caption", { hasText: "Bases" }) });
    await bases.waitFor();
    expect(new URL(page.url()).pathname).toBe("/connections/try_user/try");
    // Reopened (a new tab on the address bar's URL): the same result, not a 404.
    const again = await page.context().newPage();
    const reopened = await again.goto(page.url());
    expect(reopened?.status()).toBe(200);
    await again.locator("caption", { hasText: "Bases" }).waitFor();

    await bases
      .getByRole("button", { name: /^Tables of / })
      .first()
      .click();
    await page.locator("caption", { hasText: "Tables of" }).waitFor();
    expect(new URL(page.url()).searchParams.get("base_id")).toMatch(/^app/);
    const tablesAgain = await again.goto(page.url());
    expect(tablesAgain?.status()).toBe(200);
    const tables = again.locator("table", { has: again.locator("caption", { hasText: "Tables of" }) });
    await tables.waitFor();
    expect(await tables.locator("tbody tr").count()).toBeGreaterThan(0);

    const unknown = await page.goto(`${t.url}/no/such/page`);
    expect(unknown?.status()).toBe(404);
    await page.getByRole("heading", { name: "Not found" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "14-not-found.png"), fullPage: true });
    await page.context().close();
  }, 60_000);
});

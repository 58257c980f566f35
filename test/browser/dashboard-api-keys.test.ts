/**
 * The dashboard's API keys page (issue 12) in a real headless chromium against the real service
 * (in-process, demo mode, SQLite): reached from the nav, a key created from the form is shown once
 * and works over the API with its scope, the list shows it without the key, and Revoke refuses it
 * at once. A tampered CSRF token is refused. Screenshots land in test-artifacts/browser/.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_KEY, startTestService, type TestService } from "../security/harness.js";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";

const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/browser");
const missing = chromiumMissing() !== undefined;
announceChromiumSkip("dashboard API keys page in chromium");

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

describe.skipIf(missing)("dashboard API keys page in chromium", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestService({ start: { keepAlive: false } });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("creates a key shown once, lists it without the key, and revokes it", async () => {
    const page = await signedInPage();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
    await expect(page.getByText("No API keys yet.").count()).resolves.toBe(1);

    await page.getByLabel("Name").fill("web <app> & co");
    await page.locator("#scope-connect").check();
    await page.getByRole("button", { name: "Create API key" }).click();
    await page.getByRole("heading", { name: /API key “web <app> & co”/ }).waitFor();
    const key = await page.getByLabel("API key").inputValue();
    expect(key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: join(ARTIFACTS, "40-api-key-created.png"), fullPage: true });

    const asKey = (path: string, init: RequestInit = {}) =>
      t.api(path, {
        ...init,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      });
    const session = await asKey("/v1/connect-sessions", {
      method: "POST",
      body: JSON.stringify({ identifier: "u1" }),
    });
    expect(session.status).toBe(201);
    expect((await asKey("/v1/connections")).status).toBe(403);

    await page.getByRole("link", { name: "Back to API keys" }).click();
    const row = page.getByRole("row", { name: /web <app> & co/ });
    await expect(row.textContent()).resolves.toContain("connect");
    await expect(page.content()).resolves.not.toContain(key);
    await page.screenshot({ path: join(ARTIFACTS, "41-api-keys-list.png"), fullPage: true });

    await row.getByRole("button", { name: "Revoke web <app> & co" }).click();
    await expect(page.getByRole("status").textContent()).resolves.toContain("every instance refuses it");
    await expect(page.getByRole("row", { name: /web <app> & co/ }).textContent()).resolves.toContain(
      "Revoked",
    );
    expect(
      (await asKey("/v1/connect-sessions", { method: "POST", body: JSON.stringify({ identifier: "u1" }) }))
        .status,
    ).toBe(401);
    await page.screenshot({ path: join(ARTIFACTS, "42-api-key-revoked.png"), fullPage: true });
    await page.context().close();
  }, 60_000);

  it("refuses a blank name with a message, and a form without the session's CSRF token", async () => {
    const page = await signedInPage();
    await page.goto(`${t.url}/api-keys`);
    await page.getByLabel("Name").fill("   ");
    await page.getByRole("button", { name: "Create API key" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("1 to 100 printable characters");
    await page
      .locator('form[action="/api-keys"] input[type="hidden"]')
      .first()
      .evaluate((input) => {
        (input as unknown as { value: string }).value = "tampered";
      });
    await page.getByLabel("Name").fill("sneaky");
    await page.getByRole("button", { name: "Create API key" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("CSRF check failed");
    expect(((await (await t.api("/v1/api-keys")).json()) as { api_keys: unknown[] }).api_keys).toHaveLength(
      1,
    );
    await page.context().close();
  }, 60_000);
});

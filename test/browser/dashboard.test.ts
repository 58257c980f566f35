/**
 * Acceptance: the dashboard in a real headless chromium against `airlock serve` run as users run
 * it (a child process in demo mode, a fresh SQLite file, the printed secret key). The browser signs
 * in, creates a connection, presses Continue on the link's page, goes through the emulator's REAL
 * consent page (ticks one base, clicks Grant access), comes back, sees the connection active, lists a base's tables in "Try it" and
 * creates a record in one of them (both through the proxy). Screenshots land in test-artifacts/browser/.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const ARTIFACTS = join(ROOT, "test-artifacts/browser");

let dir: string;
let child: ChildProcess;
let dashboardUrl: string;
let secretKey: string;
let browser: Browser;

/** Starts `airlock serve` on a free port and reads the dashboard URL and secret key from its banner. */
async function startServe(): Promise<{ url: string; key: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", DATABASE_URL: join(dir, "airlock.db") };
  // Demo mode: nothing from the developer's shell may point the service at a real Airtable.
  for (const name of Object.keys(env)) {
    if (name.startsWith("AIRTABLE_") || name.startsWith("AIRLOCK_")) delete env[name];
  }
  child = spawn(process.execPath, [CLI, "serve"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`airlock serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const url = /Dashboard:\s+(http:\/\/\S+?)\/?\s*$/m.exec(output)?.[1];
      const key = /Secret key:\s+(\S+)/.exec(output)?.[1];
      if (url && key) {
        clearTimeout(timer);
        resolvePromise({ url, key });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`airlock serve exited with ${code}:\n${output}`));
    });
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const SUITE = "dashboard in chromium";
announceChromiumSkip(SUITE);

describe.skipIf(chromiumMissing() !== undefined)(SUITE, () => {
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "airlock-browser-"));
    const started = await startServe();
    dashboardUrl = started.url;
    secretKey = started.key;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("signs in, connects through the real consent page, and lists tables through the proxy", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    // Sign in: the demo banner is on the page; a wrong key is refused in plain words.
    await page.goto(dashboardUrl);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
    await expect(page.locator(".demo").textContent()).resolves.toContain(
      "Demo mode: connected to the built-in",
    );
    await shot(page, "01-sign-in");
    await page.getByLabel("Secret key").fill("definitely-not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("That secret key is not right.");
    await shot(page, "02-sign-in-wrong-key");
    await page.getByLabel("Secret key").fill(secretKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await expect(page.locator("td.empty").textContent()).resolves.toContain("No connections yet");

    // A POST from this signed-in browser without the CSRF token is refused.
    const forged = await page.evaluate(async () => {
      const res = await fetch("/connections", {
        method: "POST",
        body: new URLSearchParams({ identifier: "forged", scopes: "schema.bases:read" }),
      });
      return res.status;
    });
    expect(forged).toBe(403);

    // New connection → the one-time link → Open link.
    await page.getByLabel("Identifier").fill("browser_user");
    await page.getByRole("button", { name: "Create connect link" }).click();
    await page.getByRole("heading", { name: "Connect link for browser_user" }).waitFor();
    const link = await page.locator("#connect-url").inputValue();
    expect(link).toMatch(new RegExp(`^${dashboardUrl}/connect/[A-Za-z0-9_-]{43}$`));
    await shot(page, "03-connect-link");
    await page.getByRole("link", { name: "Open link" }).click();

    // The link's own page (opening it spends nothing): Continue to Airtable.
    await page.getByRole("button", { name: "Continue to Airtable" }).click();

    // The emulator's consent page: untick every base but the first, then Grant access.
    await page.getByRole("heading", { name: /wants to access your Airtable account/ }).waitFor();
    const baseBoxes = page.locator('input[name="bases"]');
    expect(await baseBoxes.count()).toBeGreaterThan(1);
    const baseLabels = page.locator('label:has(input[name="bases"])');
    const grantedName = ((await baseLabels.nth(0).textContent()) ?? "").trim();
    const deniedName = ((await baseLabels.nth(1).textContent()) ?? "").trim();
    for (let i = 1; i < (await baseBoxes.count()); i++) await baseBoxes.nth(i).uncheck();
    await baseBoxes.first().check();
    await shot(page, "04-consent");
    await page.getByRole("button", { name: "Grant access" }).click();

    // Back on the dashboard: the connection is active.
    await page.getByRole("heading", { name: /browser_user/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/connections/browser_user");
    await expect(page.getByRole("status").first().textContent()).resolves.toContain("Connected.");
    await expect(page.locator("h1 .badge").textContent()).resolves.toBe("Active");
    await shot(page, "05-connected");

    await page.getByRole("link", { name: "← Connections" }).click();
    const row = page.locator("tbody tr", { hasText: "browser_user" });
    await expect(row.locator(".badge").textContent()).resolves.toBe("Active");
    await expect(row.textContent()).resolves.toContain("ada.lovelace@example.com");
    await expect(row.textContent()).resolves.toMatch(/in 59 days/);
    await shot(page, "06-connections");

    // Try it: bases through the proxy (only the granted one), then that base's tables.
    await row.getByRole("link", { name: "browser_user" }).click();
    await page.getByRole("button", { name: "List bases" }).click();
    const basesTable = page.locator("table", { has: page.locator("caption", { hasText: "Bases" }) });
    await basesTable.waitFor();
    await expect(basesTable.textContent()).resolves.toContain(grantedName);
    await expect(basesTable.textContent()).resolves.not.toContain(deniedName);
    await basesTable.getByRole("button", { name: `Tables of ${grantedName}` }).click();
    const tablesTable = page.locator("table", { has: page.locator("caption", { hasText: "Tables of" }) });
    await tablesTable.waitFor();
    expect(await tablesTable.locator("tbody tr").count()).toBeGreaterThan(0);
    await expect(tablesTable.locator("tbody").textContent()).resolves.toMatch(/tbl[A-Za-z0-9]{14}/);
    await page.locator("#try-it").scrollIntoViewIfNeeded();
    await shot(page, "07-try-it");

    // A write through the proxy: create a record in the first table, see it among its records.
    const firstTable =
      (await tablesTable.locator("tbody tr").first().locator("td").first().textContent()) ?? "";
    const tableName = firstTable.replace(/tbl[A-Za-z0-9]{14}$/, "");
    await tablesTable.getByRole("button", { name: `Records of ${tableName}` }).click();
    const recordsTable = page.locator("table", {
      has: page.locator("caption", { hasText: "First records of" }),
    });
    await recordsTable.waitFor();
    const value = `Made in the browser ${Date.now()}`;
    await page.getByLabel(/New record's/).fill(value);
    await page.getByRole("button", { name: "Create record" }).click();
    await expect(
      page.getByRole("status").filter({ hasText: "through the proxy (POST" }).textContent(),
    ).resolves.toMatch(/Created rec[A-Za-z0-9]{14} through the proxy/);
    expect(page.url()).toMatch(
      /action=records&base_id=app[A-Za-z0-9]{14}&table_id=tbl[A-Za-z0-9]{14}&.*created=rec/,
    );
    // The new record heads the list, read back through the proxy (the URL reopens this view).
    await expect(recordsTable.locator("tr.highlight").textContent()).resolves.toContain(value);
    await shot(page, "08-try-it-record");

    await context.close();
  }, 90_000);
});

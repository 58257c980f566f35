/**
 * Issue 12's acceptance in a real headless chromium: one deployment with two integrations (the
 * demo's own and "readonly" from AIRLOCK_INTEGRATIONS_FILE, both hosted by the embedded
 * emulator); an app page on its own origin connects two identifiers, one on each integration,
 * through the `airlock/connect` popup and the emulator's real consent page. Each connection is
 * active on its integration only, with a grant to that integration's client.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, SECRET_KEY, startTestService, type TestService } from "../security/harness.js";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";
import {
  APP_RETURN_PATH,
  type ConnectApp,
  grantAccess,
  popupConnect,
  startConnectApp,
} from "../support/popup-connect.js";

const SUITE = "two integrations through the airlock/connect popup in chromium";
announceChromiumSkip(SUITE);

describe.skipIf(chromiumMissing() !== undefined)(SUITE, () => {
  let app: ConnectApp;
  let t: TestService;
  let browser: Browser;

  beforeAll(async () => {
    app = await startConnectApp();
    const file = join(mkdtempSync(join(tmpdir(), "airlock-integrations-")), "integrations.json");
    writeFileSync(
      file,
      JSON.stringify({
        integrations: [
          {
            id: "readonly",
            name: "Read-only",
            client_id: "airlock-readonly",
            scopes: "data.records:read schema.bases:read",
          },
        ],
      }),
    );
    t = await startTestService({
      env: { AIRLOCK_ALLOWED_RETURN_ORIGINS: app.origin, AIRLOCK_INTEGRATIONS_FILE: file },
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

  const connection = async (path: string) =>
    (await (await t.api(path)).json()) as { integration?: string; status?: string; scopes?: string[] };

  it("connects two identifiers on two integrations, each through the popup", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(app.url);
      const returnUrl = `${app.origin}${APP_RETURN_PATH}`;

      const ada = await createSession(t, { identifier: "ada", return_url: returnUrl });
      expect(await popupConnect(page, ada.url, grantAccess)).toEqual({
        status: "connected",
        identifier: "ada",
      });

      const bob = await createSession(t, {
        identifier: "bob",
        integration: "readonly",
        return_url: returnUrl,
      });
      const readonlyConsent = async (popup: Page) => {
        // The consent page is the read-only integration's own.
        await popup
          .getByRole("heading", { name: /Read-only wants to access your Airtable account/ })
          .waitFor();
        await grantAccess(popup);
      };
      expect(await popupConnect(page, bob.url, readonlyConsent)).toEqual({
        status: "connected",
        identifier: "bob",
      });
    } finally {
      await context.close();
    }

    expect(await connection("/v1/connections/ada")).toMatchObject({
      integration: "default",
      status: "active",
    });
    expect(await connection("/v1/integrations/readonly/connections/bob")).toMatchObject({
      integration: "readonly",
      status: "active",
      scopes: ["data.records:read", "schema.bases:read"],
    });
    // Each lives on its own integration only.
    expect((await t.api("/v1/connections/bob")).status).toBe(404);
    expect((await t.api("/v1/integrations/readonly/connections/ada")).status).toBe(404);
    const grants = (await (await fetch(`${t.service.emulator?.url}/__emulator/grants`)).json()) as {
      grants: Array<{ client_id: string }>;
    };
    expect(grants.grants.map((g) => g.client_id).sort()).toEqual(["airlock-demo", "airlock-readonly"]);
  });

  it("shows both integrations in the dashboard, each with its own connections, pages and Try it", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${t.url}/login`);
      await page.getByLabel("Secret key").fill(SECRET_KEY);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Connections" }).waitFor();

      await page.getByRole("link", { name: "Integrations", exact: true }).click();
      await page.getByRole("heading", { name: "Integrations" }).waitFor();
      const rows = page.locator("tbody tr");
      await expect(rows.count()).resolves.toBe(2);
      await expect(rows.nth(1).textContent()).resolves.toContain("airlock-readonly");

      // The read-only integration's list holds bob only; its page and Try it act on that integration.
      await page.getByRole("link", { name: "Read-only" }).first().click();
      await expect.poll(() => new URL(page.url()).pathname).toBe("/integrations/readonly");
      await expect(page.locator("td.ident-cell").allTextContents()).resolves.toEqual(["bob"]);
      await page.getByRole("link", { name: "bob" }).click();
      await expect.poll(() => new URL(page.url()).pathname).toBe("/integrations/readonly/connections/bob");
      await expect(page.locator("main").textContent()).resolves.toContain(
        "/v1/integrations/readonly/proxy/bob/v0/",
      );
      await page.getByRole("button", { name: "List bases" }).click();
      await page.locator("#try-it table").waitFor();

      // The default integration's list holds ada only.
      await page.goto(`${t.url}/`);
      await expect(page.locator("td.ident-cell").allTextContents()).resolves.toEqual(["ada"]);
    } finally {
      await context.close();
    }
  });
});

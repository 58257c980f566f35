/**
 * The dashboard's pages in a real headless chromium against the real service (in-process, demo
 * mode, SQLite): an identifier over the limit is refused with a message rather than cut by the
 * browser; a 255-character identifier wraps or truncates instead of stretching pages sideways;
 * "Try it" leaves URLs that can be reloaded; an unknown page is an HTML page, not JSON; a webhook
 * created over the API shows on its connection's page with its cursor and delivery state (issue 10).
 * Screenshots land in test-artifacts/browser/.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, SECRET_KEY, startTestService, type TestService } from "../security/harness.js";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "../support/chromium.js";
import {
  type CraftedResponse,
  type RecordingServer,
  startRecordingServer,
} from "../support/recording-server.js";

const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/browser");
const missing = chromiumMissing() !== undefined;
announceChromiumSkip("dashboard pages in chromium");

const LONG_ID = `u${"x".repeat(254)}`;

let t: TestService;
let browser: Browser;

async function signedInPage(service = t, using = browser): Promise<Page> {
  const context = await using.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${service.url}/login`);
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

interface WebhookJson {
  id: string;
  cursor: number;
  delivery: { pending: number; last_error: string | null };
}

async function until<T>(check: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(missing)("a connection's Airtable webhooks in chromium", () => {
  const identifier = "hooks_page_user";
  let hooks: TestService;
  let receiver: RecordingServer;
  /** What the receiver answers: a failing one leaves the webhook's events pending. */
  let answer: CraftedResponse = { status: 204 };
  let hooksBrowser: Browser;
  let baseId: string;

  const webhooksOf = async (): Promise<WebhookJson[]> => {
    const res = await hooks.api(`/v1/connections/${identifier}/airtable-webhooks`);
    return ((await res.json()) as { airtable_webhooks: WebhookJson[] }).airtable_webhooks;
  };
  const createRecord = async (name: string) => {
    // The emulator holds a base to 5 requests a second, as Airtable does: let a second pass first.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await hooks.api(`/v1/proxy/${identifier}/v0/${baseId}/Features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ fields: { Name: name } }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    receiver = await startRecordingServer(() => answer);
    hooks = await startTestService({
      env: {
        AIRTABLE_SCOPES: "data.records:read data.records:write schema.bases:read webhook:manage",
        AIRLOCK_WEBHOOK_URL: `${receiver.url}/hooks`,
        AIRLOCK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString("base64")}`,
      },
      start: { webhookPollIntervalMs: 50, keepAliveIntervalMs: 200 },
    });
    await connect(hooks, { identifier });
    const bases = await hooks.api(`/v1/proxy/${identifier}/v0/meta/bases`);
    const list = (await bases.json()) as { bases: Array<{ id: string; name: string }> };
    baseId = list.bases.find((b) => b.name === "Product Roadmap")!.id;
    hooksBrowser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await hooksBrowser?.close();
    await hooks?.close();
    await receiver?.close();
  });

  it("names the create route with none, then shows a webhook made over the API with its cursor and delivery", async () => {
    const page = await signedInPage(hooks, hooksBrowser);
    await page.goto(`${hooks.url}/connections/${identifier}`);
    const section = page.locator("section", {
      has: page.getByRole("heading", { name: "Airtable webhooks" }),
    });
    await expect(section.textContent()).resolves.toContain(
      `No Airtable webhooks. Create one with POST /v1/connections/${identifier}/airtable-webhooks`,
    );

    const created = await hooks.api(`/v1/connections/${identifier}/airtable-webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        base_id: baseId,
        specification: { options: { filters: { dataTypes: ["tableData"] } } },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const webhook = (await created.json()) as WebhookJson;
    await createRecord("Shown on the dashboard");
    await until(async () => {
      const [view] = await webhooksOf();
      return view?.cursor === 2 && view.delivery.pending === 0;
    }, "the first page delivered");

    await page.reload();
    const row = section.locator(`tr[data-webhook-id="${webhook.id}"]`);
    const cells = async () => (await row.locator("td").allInnerTexts()).map((c) => c.trim());
    const [id, base, status, expires, lastPing, cursor, delivery] = await cells();
    expect(id).toContain(webhook.id);
    expect(base).toBe(baseId);
    expect(status).toBe("Active");
    expect(expires).toMatch(/^in (6|7) days$/);
    expect(lastPing).not.toBe("never");
    expect(cursor).toBe("2");
    expect(delivery).toBe("delivered");
    await page.screenshot({ path: join(ARTIFACTS, "15-airtable-webhooks.png"), fullPage: true });

    // The receiver fails: the next page waits in the outbox, and the page says so and why.
    answer = { status: 503 };
    await createRecord("Held in the outbox");
    await until(async () => {
      const [view] = await webhooksOf();
      return view?.cursor === 3 && view.delivery.pending === 1 && view.delivery.last_error !== null;
    }, "a pending delivery with its error");
    await page.reload();
    const held = await cells();
    expect(held[5]).toBe("3");
    expect(held[6]).toMatch(/^1 event pending\s+Last attempt: .*503/);
    await page.screenshot({ path: join(ARTIFACTS, "16-airtable-webhook-pending.png"), fullPage: true });

    answer = { status: 204 };
    await until(async () => (await webhooksOf())[0]?.delivery.pending === 0, "the retry delivered");
    await page.reload();
    expect((await cells())[6]).toBe("delivered");
    await page.context().close();
  }, 90_000);
});

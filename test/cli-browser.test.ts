/**
 * Acceptance with a real browser: Chromium opens the URL `airlock login` printed, the user ticks
 * bases and clicks the consent button, Chromium follows the redirect to http://localhost:PORT/callback
 * (the CLI listens on 127.0.0.1 only) and shows the CLI's success page.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceChromiumSkip, chromiumMissing, launchChromium } from "./support/chromium.js";
import { cliTestbed, readCredentials, startCli, transcript } from "./support/cli.js";

const SUITE = "airlock login in Chromium";
announceChromiumSkip(SUITE);

describe.skipIf(chromiumMissing() !== undefined)(SUITE, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  const s = cliTestbed({ per: "suite", autoApprove: false });

  it("logs in through the consent page in Chromium", async () => {
    const cli = startCli(["login", "--no-browser"], { env: s.env });
    const authorizeUrl = await cli.authorizeUrl();
    const page = await browser.newPage();
    try {
      await page.goto(authorizeUrl.href);
      await page.getByRole("button", { name: /grant access/i }).click();
      await page.waitForURL((url) => url.href.startsWith(s.redirectUri));
      await expect.poll(() => page.textContent("h1")).toContain("Airlock is logged in");
      transcript.push(await page.content());
    } finally {
      await page.close();
    }
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect((await readCredentials(s.home)).email).toBe("ada.lovelace@example.com");
  });
});

/**
 * The README's five-minute tour, checked against the real service in demo mode: the curl example's
 * connect session leaves the end user on a page that says what happened (not the admin sign-in
 * page), and the dashboard walk-through describes the consent page as it is.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  createSession,
  location,
  startTestService,
  type TestService,
  useConnectLink,
} from "./security/harness.js";

const README = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");
const TOUR = /## Five-minute tour[\s\S]*?(?=\n## )/.exec(README)?.[0] ?? "";

/** Opens a connect link in a fresh browser and follows every redirect (consent auto-approved). */
async function openLink(url: string): Promise<{ res: Response; text: string; url: string }> {
  const browser = new Browser();
  let current = location(await useConnectLink(browser, url));
  for (let hop = 0; hop < 10; hop++) {
    const res = await browser.get(current);
    if (res.status < 300 || res.status >= 400) return { res, text: await res.text(), url: current };
    current = new URL(location(res), current).href;
  }
  throw new Error("too many redirects");
}

describe("README five-minute tour", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ start: { keepAlive: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("the curl example's connect link ends on a page that says the account is connected", async () => {
    const body = /curl -s -X POST http:\/\/localhost:4000\/v1\/connect-sessions[\s\S]*?-d '([^']+)'/.exec(
      TOUR,
    )?.[1];
    expect(body, "the tour's POST /v1/connect-sessions example").toBeDefined();
    const session = await createSession(
      t,
      JSON.parse((body ?? "{}").replaceAll("http://localhost:4000", t.url)) as Record<string, unknown>,
    );
    const landed = await openLink(session.url);
    expect(landed.res.status).toBe(200);
    expect(landed.text).toContain("Airtable connected");
    expect(landed.text).toContain("You can close this tab");
    expect(landed.text).not.toContain("Sign in");
    expect(TOUR).toMatch(/you can close this tab/i);
  });

  it("a return_url on the dashboard's front page still tells the end user what happened", async () => {
    const session = await createSession(t, { identifier: "tour_front", return_url: `${t.url}/` });
    const landed = await openLink(session.url);
    expect(new URL(landed.url).searchParams.get("status")).toBe("connected");
    expect(landed.res.status).toBe(200);
    expect(landed.text).toContain("Airtable connected");
    expect(landed.text).not.toContain("Sign in");
  });

  it("describes the consent page's bases as they are: all ticked to begin with", async () => {
    const consenting = await startTestService({
      demoEmulator: { autoApprove: false },
      start: { keepAlive: false },
    });
    try {
      const session = await createSession(consenting, { identifier: "tour_consent" });
      const page = await openLink(session.url);
      const boxes = [...page.text.matchAll(/<input type="checkbox" name="bases"[^>]*>/g)].map((m) => m[0]);
      expect(boxes.length).toBeGreaterThan(1);
      for (const box of boxes) expect(box).toContain(" checked");
    } finally {
      await consenting.close();
    }
    expect(TOUR).not.toMatch(/tick a base/i);
    expect(TOUR).toMatch(/all ticked|already ticked/i);
  });
});

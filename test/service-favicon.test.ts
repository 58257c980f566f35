/**
 * The favicon: `GET /favicon.ico` answers a tiny SVG with a long cache lifetime and a validator,
 * needs no secret key, and every HTML page links it.
 */

import { html } from "hono/html";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlDocument } from "../src/server/html-document.js";
import { startTestService, type TestService } from "./security/harness.js";

describe("favicon", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("GET /favicon.ico: a small SVG, cached, without authentication", async () => {
    const res = await fetch(`${t.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    const cache = res.headers.get("cache-control") ?? "";
    expect(cache).toMatch(/\bpublic\b/);
    expect(Number(/max-age=(\d+)/.exec(cache)?.[1])).toBeGreaterThanOrEqual(86_400);
    const body = await res.text();
    expect(body.startsWith("<svg")).toBe(true);
    expect(body.length).toBeLessThan(1024);

    const etag = res.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await fetch(`${t.url}/favicon.ico`, { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect((await fetch(`${t.url}/favicon.ico`, { method: "HEAD" })).status).toBe(200);
  });

  it("every HTML page links it (the shared document shell, and the dashboard's sign-in page)", async () => {
    const page = String(await htmlDocument({ title: "x", head: html``, body: html`` }));
    expect(page).toContain('<link rel="icon" href="/favicon.ico" type="image/svg+xml">');
    const login = await (await fetch(`${t.url}/login`)).text();
    expect(login).toContain('<link rel="icon" href="/favicon.ico"');
  });
});

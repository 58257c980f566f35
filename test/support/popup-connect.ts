/**
 * What the browser suites need to drive `airlock/connect` as an app would: a tiny app on its own
 * origin (a node http server serving one page and the built module from dist/connect/), and one
 * popup connect in chromium, from the app's button through Continue and the emulator's real
 * consent page to the promise's result.
 *
 * @example
 * const app = await startConnectApp();
 * // the service must allow app.origin as a return_url origin (AIRLOCK_ALLOWED_RETURN_ORIGINS)
 * const page = await context.newPage();
 * await page.goto(app.url);
 * const result = await popupConnect(page, connectUrl);   // { status: "connected", identifier }
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import type { ConnectResult } from "../../src/connect/index.js";

const MODULE = join(resolve(import.meta.dirname, "../.."), "dist/connect/index.js");

/** Where the app sends redirect-mode browsers back (its return_url path). */
export const APP_RETURN_PATH = "/airtable-done";

/**
 * The app's page: a URL field, a Connect button that calls `connect({ url })` from the module, and
 * the result as JSON in `#result` (an error thrown by `connect` as `{ "thrown": message }`).
 */
const APP_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The app</title></head>
<body>
<h1>The app</h1>
<label>Connect link <input id="url"></label>
<button id="connect" type="button">Connect Airtable</button>
<pre id="result"></pre>
<script type="module">
  import { connect } from "/connect.js";
  document.getElementById("connect").addEventListener("click", () => {
    connect({ url: document.getElementById("url").value }).then(
      (result) => { document.getElementById("result").textContent = JSON.stringify(result); },
      (error) => { document.getElementById("result").textContent = JSON.stringify({ thrown: String(error) }); },
    );
  });
</script>
</body></html>`;

export interface ConnectApp {
  /** `http://127.0.0.1:<port>`: the app's origin (not the service's). */
  origin: string;
  /** The app's page. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the app on a free port of 127.0.0.1 (the service answers on localhost: another origin).
 * Needs `npm run build` (the module is served from dist/, as an app would ship the built file).
 *
 * @example
 * const app = await startConnectApp();
 * await app.close();
 */
export async function startConnectApp(): Promise<ConnectApp> {
  if (!existsSync(MODULE))
    throw new Error(`${MODULE} is missing: run \`npm run build\` first (npm test does).`);
  const module = readFileSync(MODULE, "utf8");
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://app").pathname;
    if (path === "/connect.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(module);
    } else if (path === "/" || path === APP_RETURN_PATH) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(APP_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Grants access on the emulator's real consent page (every base, as ticked). */
export async function grantAccess(popup: Page): Promise<void> {
  await popup.getByRole("heading", { name: /wants to access your Airtable account/ }).waitFor();
  await popup.getByRole("button", { name: "Grant access" }).click();
}

/**
 * On the app's page (already loaded), connects through the popup: enters `connectUrl`, clicks
 * Connect, presses Continue to Airtable in the popup, lets `consent` answer the consent page
 * (default: grant access), and returns what `connect()` resolved with once the popup has closed.
 *
 * @example
 * const result = await popupConnect(page, session.url);
 * expect(result).toEqual({ status: "connected", identifier: "user_1" });
 */
export async function popupConnect(
  page: Page,
  connectUrl: string,
  consent: (popup: Page) => Promise<void> = grantAccess,
): Promise<ConnectResult> {
  const popup = await openPopup(page, connectUrl);
  await popup.getByRole("button", { name: "Continue to Airtable" }).click();
  const closed = popup.waitForEvent("close");
  await consent(popup);
  await closed;
  return appResult(page);
}

/** Enters `connectUrl` on the app's page, clicks Connect and returns the popup it opened. */
export async function openPopup(page: Page, connectUrl: string): Promise<Page> {
  await page.locator("#result").evaluate((el) => {
    el.textContent = "";
  });
  await page.locator("#url").fill(connectUrl);
  const opened = page.waitForEvent("popup");
  await page.locator("#connect").click();
  const popup = await opened;
  popup.setDefaultTimeout(15_000);
  return popup;
}

/** What `connect()` resolved with on the app's page (waits for it). */
export async function appResult(page: Page): Promise<ConnectResult> {
  const result = page.locator("#result");
  await result.filter({ hasText: /./ }).waitFor();
  return JSON.parse((await result.textContent()) ?? "null") as ConnectResult;
}

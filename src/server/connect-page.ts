/**
 * The connect flow's own pages: "Continue to Airtable", which `GET /connect/:token` shows (a read:
 * opening the link, or a link previewer fetching it, uses nothing; only the page's POST does), and
 * the popup's last page, which hands the outcome to the app's window with `postMessage` and closes.
 * Both run one same-origin script ({@link CONNECT_SCRIPT_PATH}: the pages' CSP allows no inline
 * script): it disables Continue once pressed (a double click would spend the link twice) and
 * posts the popup's outcome.
 */
import { createHash } from "node:crypto";
import { html } from "hono/html";
import { type Html, htmlDocument } from "./html-document.js";
import { PAGE_CSS_PATH, PAGE_CSS_VERSION } from "./pages.js";

/** The `type` of the message the popup posts to `window.opener` (what `airlock/connect` waits for). */
export const CONNECT_MESSAGE_TYPE = "airlock:connect";

/** The script of both pages (kept as a string so `tsc` ships it in `dist/`). */
export const CONNECT_SCRIPT = `"use strict";
(function () {
  var form = document.getElementById("airlock-continue");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("button");
      if (button) button.setAttribute("aria-disabled", "true");
    });
  }
  var result = document.getElementById("airlock-result");
  if (!result) return;
  var message = JSON.parse(result.dataset.message || "null");
  var opener = window.opener;
  if (opener && !opener.closed) {
    opener.postMessage(message, result.dataset.targetOrigin);
    setTimeout(function () { window.close(); }, 50);
  } else if (result.dataset.returnUrl) {
    location.replace(result.dataset.returnUrl);
  }
})();
`;

/** Where {@link CONNECT_SCRIPT} is served; `v` is its content hash, so it can be cached for good. */
export const CONNECT_SCRIPT_PATH = "/assets/connect.js";
export const CONNECT_SCRIPT_VERSION = createHash("sha256").update(CONNECT_SCRIPT).digest("hex").slice(0, 12);

function head(): Html {
  return html`<link rel="stylesheet" href="${PAGE_CSS_PATH}?v=${PAGE_CSS_VERSION}">
<script src="${CONNECT_SCRIPT_PATH}?v=${CONNECT_SCRIPT_VERSION}" defer></script>`;
}

function demoBanner(demoEmulatorUrl: string | null): Html | string {
  return demoEmulatorUrl
    ? html`<div class="demo" role="status">Demo mode: Airtable is the built-in emulator at ${demoEmulatorUrl}.</div>`
    : "";
}

export interface ContinuePageInput {
  /** Where the form posts: the link's own path, with `?mode=popup` in popup mode. */
  action: string;
  demoEmulatorUrl: string | null;
}

/**
 * The page a connect link opens: one button that POSTs to the link, which is what spends it.
 *
 * @example
 * c.html(continuePage({ action: `/connect/${token}`, demoEmulatorUrl: null }));
 */
export function continuePage(input: ContinuePageInput): Html {
  return htmlDocument({
    title: "Continue to Airtable",
    head: head(),
    body: html`${demoBanner(input.demoEmulatorUrl)}
<main class="continue">
  <h1>Connect your Airtable account</h1>
  <p>Airtable will ask you which bases to share and to confirm access.</p>
  <form id="airlock-continue" method="post" action="${input.action}">
    <button type="submit">Continue to Airtable</button>
  </form>
  <p class="hint">This link works once and only in this browser.</p>
</main>`,
  });
}

/** What the popup posts to the app's window. */
export interface ConnectMessage {
  type: typeof CONNECT_MESSAGE_TYPE;
  status: "connected" | "error";
  identifier: string;
  error?: string;
}

export interface PopupResultPageInput {
  message: ConnectMessage;
  /** The origin of the session's return_url: the only window the message may reach. */
  targetOrigin: string;
  /** return_url with the outcome in its query: where the window goes if its opener is gone. */
  returnUrl: string;
  title: string;
  text: string;
  demoEmulatorUrl: string | null;
}

/**
 * The popup's last page: posts `message` to `window.opener` at exactly `targetOrigin` and closes;
 * without an opener (the app's tab was closed) it goes on to the return URL as a redirect would.
 *
 * @example
 * c.html(popupResultPage({ message, targetOrigin: "https://app.example", returnUrl, title, text, demoEmulatorUrl: null }));
 */
export function popupResultPage(input: PopupResultPageInput): Html {
  return htmlDocument({
    title: input.title,
    head: head(),
    body: html`${demoBanner(input.demoEmulatorUrl)}
<main class="${input.message.status === "connected" ? "ok" : "failed"}" id="airlock-result"
  data-message="${JSON.stringify(input.message)}" data-target-origin="${input.targetOrigin}"
  data-return-url="${input.returnUrl}">
  <h1>${input.title}</h1>
  <p>${input.text}</p>
  <p class="hint">This window closes by itself. If it stays open, <a href="${input.returnUrl}">go back to the app</a>.</p>
</main>`,
  });
}

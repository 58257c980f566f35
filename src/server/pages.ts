/**
 * The few HTML pages the end user's browser may see outside the dashboard: the end of the connect
 * flow (success or a friendly error) and a dead connect link. Values are escaped by `hono/html`.
 * Their one stylesheet is a same-origin file (the pages' CSP allows no inline style), served by the
 * connect flow at {@link PAGE_CSS_PATH}.
 */
import { createHash } from "node:crypto";
import { html } from "hono/html";
import { type Html, htmlDocument } from "./html-document.js";

/** The end-user pages' stylesheet (kept as a string so `tsc` ships it in `dist/`). */
export const PAGE_CSS = `
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f6f7f9; color: #1f2328; }
main { max-width: 32rem; margin: 12vh auto; background: #fff; border-radius: 12px; padding: 2rem 2.25rem;
       box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 8px 24px rgba(0,0,0,.06); overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
.ok h1 { color: #137333; }
.failed h1 { color: #b3261e; }
p { margin: .5rem 0; }
.hint { color: #57606a; font-size: .95rem; }
.continue form { margin: 1.25rem 0 .75rem; }
button { font: inherit; font-weight: 600; background: #1f4fd1; color: #fff; border: 0; border-radius: 8px;
         padding: .65rem 1.25rem; cursor: pointer; }
button:focus-visible { outline: 3px solid #9db4f0; outline-offset: 2px; }
button[aria-disabled="true"] { opacity: .6; cursor: progress; }
.demo { background: #fff4ce; color: #5c4400; padding: .5rem 1rem; text-align: center; font-size: .9rem; }
`;

/** Where {@link PAGE_CSS} is served; the `v` query is its content hash, so it can be cached for good. */
export const PAGE_CSS_PATH = "/assets/page.css";
export const PAGE_CSS_VERSION = createHash("sha256").update(PAGE_CSS).digest("hex").slice(0, 12);

export interface ResultPageInput {
  ok: boolean;
  title: string;
  message: string;
  hint?: string | undefined;
  /** Shown as a banner in demo mode. */
  demoEmulatorUrl?: string | null | undefined;
}

/**
 * A small standalone page for the end of a browser flow.
 */
export function resultPage(input: ResultPageInput): Html {
  return htmlDocument({
    title: input.title,
    head: html`<link rel="stylesheet" href="${PAGE_CSS_PATH}?v=${PAGE_CSS_VERSION}">`,
    body: html`${input.demoEmulatorUrl ? html`<div class="demo" role="status">Demo mode: Airtable is the built-in emulator at ${input.demoEmulatorUrl}.</div>` : ""}
<main class="${input.ok ? "ok" : "failed"}">
  <h1>${input.title}</h1>
  <p>${input.message}</p>
  ${input.hint ? html`<p class="hint">${input.hint}</p>` : ""}
</main>`,
  });
}

/**
 * The document shell every Airlock HTML page shares (dashboard and end-user pages): UTF-8, a mobile
 * viewport, and `referrer: no-referrer`, so a URL carrying a connect token or an OAuth code is never
 * sent to another site in a Referer header.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/** What `hono/html` renders: markup whose interpolated values are already escaped. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * A complete page: `title` is escaped and suffixed with "· Airlock"; `head` and `body` are markup.
 *
 * @example
 * return c.html(htmlDocument({ title: "Done", head: html`<style>…</style>`, body: html`<main>…</main>` }));
 */
export function htmlDocument(page: { title: string; head: Html; body: Html }): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<title>${page.title} · Airlock</title>
${page.head}
</head>
<body>
${page.body}
</body>
</html>`;
}

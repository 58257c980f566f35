/**
 * The document shell every Airlock HTML page shares (dashboard and end-user pages): UTF-8, a mobile
 * viewport, and `referrer: no-referrer`, so a URL carrying a connect token or an OAuth code is never
 * sent to another site in a Referer header. Also the one set of security headers every HTML page
 * gets, and the rule for who is a browser.
 */
import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import { secureHeaders } from "hono/secure-headers";
import type { HtmlEscapedString } from "hono/utils/html";

/** What `hono/html` renders: markup whose interpolated values are already escaped. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * A complete page: `title` is escaped and suffixed with "· Airlock"; `head` and `body` are markup.
 * Styles and scripts must be same-origin files (`<link>`, `<script src>`): the pages' CSP blocks
 * inline ones.
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

/**
 * The security headers of every HTML page: a CSP that allows only same-origin styles, scripts,
 * images and form targets and no framing at all (`frame-ancestors 'none'`, `X-Frame-Options: DENY`),
 * no Referer, and HSTS on https. `endUser` pages (the connect flow) leave out
 * Cross-Origin-Opener-Policy, so an app that opened the connect link in a popup keeps its handle on it.
 * `formTargets` are origins a form may end up at besides this one: browsers apply `form-action` to
 * the redirects after a submit too (the connect link's Continue form is answered with a redirect to
 * Airtable).
 */
export function pageHeaders(options: {
  https: boolean;
  endUser?: boolean;
  formTargets?: readonly string[];
}): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      scriptSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'", ...(options.formTargets ?? [])],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginOpenerPolicy: options.endUser !== true,
    strictTransportSecurity: options.https ? "max-age=31536000; includeSubDomains" : false,
  });
}

/**
 * True when the request comes from a browser navigating (its Accept names `text/html`): it gets an
 * HTML page; API clients (`application/json`, `*\/*`, nothing) get the JSON error body.
 */
export function wantsHtml(c: Context): boolean {
  return /\btext\/html\b/i.test(c.req.header("accept") ?? "");
}

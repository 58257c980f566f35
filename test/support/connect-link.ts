/**
 * Opening a connect link as a browser does since links are not spent by a GET: `GET /connect/:token`
 * answers the "Continue to Airtable" page, and pressing Continue POSTs its form, which spends the
 * link and redirects to Airtable. One parser for the page's form, for every suite's walker.
 */

/**
 * Where the Continue page's form posts (absolute), or throws with the start of the page when the
 * page has no Continue form (a dead link's 410 page, an error page).
 *
 * @example
 * const page = await fetch(link);
 * const action = continueAction(await page.text(), link);
 * const toAirtable = await fetch(action, { method: "POST", redirect: "manual" });
 */
export function continueAction(html: string, pageUrl: string | URL): URL {
  const form = /<form\b[^>]*\bid="airlock-continue"[^>]*>/i.exec(html)?.[0];
  const action = form ? /\saction="([^"]*)"/i.exec(form)?.[1] : undefined;
  if (action === undefined) {
    throw new Error(`expected the "Continue to Airtable" page, got:\n${html.slice(0, 400)}`);
  }
  return new URL(action.replace(/&amp;/g, "&"), pageUrl);
}

/** True when `url` is a connect link (`/connect/<token>`), whatever its query. */
export function isConnectLink(url: string | URL): boolean {
  return /^\/connect\/[^/]+$/.test(new URL(url).pathname);
}

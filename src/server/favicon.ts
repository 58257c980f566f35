/**
 * The favicon: a tiny SVG padlock served at `/favicon.ico` (where browsers look without being told)
 * and linked from every HTML page. Cached for a week with an ETag, so a browser asks once instead of
 * leaving a 404 in the request log on every page view.
 */
import { createHash } from "node:crypto";
import type { Context } from "hono";

/** Where the favicon is served (and what html-document.ts links). */
export const FAVICON_PATH = "/favicon.ico";

const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#1f4fd1"/>' +
  '<path d="M11 15v-4a5 5 0 0 1 10 0v4" fill="none" stroke="#fff" stroke-width="3"/>' +
  '<rect x="8" y="14" width="16" height="12" rx="2.5" fill="#fff"/>' +
  '<circle cx="16" cy="20" r="2" fill="#1f4fd1"/></svg>';

const ETAG = `"${createHash("sha256").update(SVG).digest("base64url").slice(0, 16)}"`;

/** A week; the ETag answers the revalidation after that with a 304. */
const CACHE_CONTROL = "public, max-age=604800";

function matches(ifNoneMatch: string | undefined): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === ETAG;
  });
}

/**
 * The `GET /favicon.ico` handler (HEAD too): the SVG, or 304 when the browser's copy is current.
 */
export function favicon(c: Context): Response {
  c.header("Cache-Control", CACHE_CONTROL);
  c.header("ETag", ETAG);
  if (matches(c.req.header("if-none-match"))) return c.body(null, 304);
  return c.body(SVG, 200, {
    "Content-Type": "image/svg+xml",
    // Opened directly, the image may run nothing and load nothing.
    "Content-Security-Policy": "default-src 'none'",
  });
}

/**
 * Which paths the proxy may forward: Airtable Web API paths (`/v0/…`) and nothing else. Checked on
 * the fully decoded path (decoded until stable, so `%252e%252e` is caught too) before any upstream
 * call; the request's own Host and override headers play no part in where it goes.
 */
import { AirlockError } from "../shared/errors.js";

/**
 * The `invalid_input` error for a refused proxy path.
 */
export function refuseProxyPath(why: string): AirlockError {
  return new AirlockError("invalid_input", `The proxy refuses this path: ${why}.`, {
    hint: "Proxy only Airtable Web API paths, e.g. /v1/proxy/user_123/v0/meta/whoami or /v1/proxy/user_123/v0/appXXXXXXXXXXXXXX/Table%201.",
  });
}

/**
 * Percent-decodes until the value stops changing (at most 5 rounds); throws on malformed encoding.
 */
export function decodeUntilStable(value: string): string {
  let current = value;
  for (let round = 0; round < 5; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      throw refuseProxyPath("it has malformed percent-encoding");
    }
    if (next === current) return current;
    current = next;
  }
  throw refuseProxyPath("it is encoded too many times");
}

/**
 * Checks the path after `/v1/proxy/:identifier` (as received, still encoded) and returns it for
 * forwarding, or throws `invalid_input` naming the problem.
 */
export function checkProxyPath(rawPath: string): string {
  if (!rawPath.startsWith("/")) throw refuseProxyPath("it must start with /v0/");
  if (rawPath.length > 4096) throw refuseProxyPath("it is too long");
  const decoded = decodeUntilStable(rawPath);
  if (decoded.includes("\\")) throw refuseProxyPath("it contains a backslash");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse.
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw refuseProxyPath("it contains control characters");
  if (decoded.startsWith("//") || /^[a-z][a-z0-9+.-]*:/i.test(decoded.slice(1)) || decoded.includes("://")) {
    throw refuseProxyPath("it looks like an absolute or scheme-relative URL");
  }
  const segments = decoded.slice(1).split("/");
  if (segments.some((s) => s === "." || s === "..")) throw refuseProxyPath("it contains . or .. segments");
  if (segments.slice(0, -1).some((s) => s === "")) throw refuseProxyPath("it contains an empty segment (//)");
  if (segments[0] !== "v0" || segments.length < 2 || segments[1] === "") {
    throw refuseProxyPath("only Airtable Web API paths under /v0/ can be proxied");
  }
  // Forward the encoded form: a table named "A/B" arrives as A%2FB and must stay one segment upstream.
  return rawPath;
}

/**
 * The upstream URL: the configured API origin (and its path prefix) plus the checked path and the
 * caller's query. Throws if the result somehow left the API's origin.
 */
export function upstreamUrl(apiUrl: string, checkedPath: string, search: string): URL {
  const base = new URL(apiUrl);
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, "")}${checkedPath}`;
  url.search = search;
  url.hash = "";
  if (url.origin !== base.origin) throw refuseProxyPath("it would leave the Airtable API origin");
  return url;
}

/**
 * The upstream origin, computed once, and the request-target for each checked path: the API's own
 * path prefix (if any) plus the checked path and the caller's query. Requests go to `origin` through
 * a pool bound to it, so no path can leave the origin; the string work replaces two `new URL` per
 * request.
 */
export function upstreamBase(apiUrl: string): {
  origin: string;
  path(checkedPath: string, search: string): string;
} {
  const base = new URL(apiUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  return {
    origin: base.origin,
    path(checkedPath, search) {
      if (!checkedPath.startsWith("/") || checkedPath.startsWith("//")) {
        throw refuseProxyPath("it would leave the Airtable API origin");
      }
      return `${prefix}${checkedPath}${search}`;
    },
  };
}

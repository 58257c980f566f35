/**
 * Airtable's rules for a redirect URI, checked before a user finds out from an error page
 * (a mismatching or invalid redirect_uri never redirects back, so the app sees nothing).
 */

import { parse } from "tldts";

/** Machine names of the redirect URI rules. */
export type RedirectUriRule =
  | "absolute_url"
  | "https_required"
  | "no_userinfo"
  | "no_fragment"
  | "no_raw_ip"
  | "no_dot_segments"
  | "public_suffix"
  | "no_wildcard";

/** One broken rule. `error`s make Airtable refuse the URI; `warn`s are likely but not certain trouble. */
export interface RedirectUriProblem {
  rule: RedirectUriRule;
  level: "error" | "warn";
  message: string;
  fix: string;
}

/** The two hosts Airtable exempts from HTTPS, the raw-IP rule and the public-suffix rule. */
function isExemptHost(host: string): boolean {
  return host === "localhost" || host === "127.0.0.1";
}

function isIpLiteral(host: string): boolean {
  return host.startsWith("[") || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * True when `host` is a name under a suffix of the Public Suffix List (ICANN or private, such
 * as `co.uk` or `github.io`), as tldts ships it. A name whose last label is on no list
 * (`app.notatld`, `printer.local`, `intranet`) is not, and neither is a suffix alone (`co.uk`).
 */
function endsInPublicSuffix(host: string): boolean {
  const listed = parse(host, { allowPrivateDomains: true });
  // tldts answers every unknown last label with its default "*" rule: listed means ICANN or private.
  if (!listed.isIcann && !listed.isPrivate) return false;
  return parse(host).domain !== null;
}

/**
 * Checks a redirect URI against Airtable's registration rules: absolute; HTTPS unless
 * localhost/127.0.0.1; no userinfo; no fragment; no raw IP unless 127.0.0.1; no `..`
 * segments; a public-suffix TLD unless localhost. Returns no problems for a good URI.
 * (That it must not itself redirect, and must match a registered URI exactly, cannot be
 * checked offline.)
 *
 * @example
 * checkRedirectUri("http://localhost:8085/callback"); // []
 * checkRedirectUri("http://example.com/cb")[0]?.rule; // "https_required"
 */
export function checkRedirectUri(uri: string): RedirectUriProblem[] {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return [
      {
        rule: "absolute_url",
        level: "error",
        message: `The redirect URI "${uri}" is not an absolute URL.`,
        fix: "Use a full URL such as http://localhost:8085/callback or https://app.example.com/oauth/callback.",
      },
    ];
  }
  const problems: RedirectUriProblem[] = [];
  const host = url.hostname.toLowerCase();
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isExemptHost(host))) {
    problems.push({
      rule: "https_required",
      level: "error",
      message: `The redirect URI uses ${url.protocol.replace(":", "")}; Airtable requires https except for localhost and 127.0.0.1.`,
      fix: `Use https://${url.host}${url.pathname}, or http://localhost:PORT/… for a local callback.`,
    });
  }
  if (url.username || url.password) {
    problems.push({
      rule: "no_userinfo",
      level: "error",
      message: "The redirect URI contains a user name or password (user:pass@host).",
      fix: "Remove the userinfo part before the host.",
    });
  }
  // `new URL` drops an empty "#", so look at the raw text too.
  if (url.hash || uri.includes("#")) {
    problems.push({
      rule: "no_fragment",
      level: "error",
      message: "The redirect URI contains a fragment (#…).",
      fix: "Remove everything from the # on.",
    });
  }
  if (isIpLiteral(host) && !isExemptHost(host)) {
    problems.push({
      rule: "no_raw_ip",
      level: "error",
      message: `The redirect URI uses the raw IP address ${host}; Airtable only allows 127.0.0.1.`,
      fix: "Use a domain name, or localhost / 127.0.0.1 for a local callback.",
    });
  }
  // `new URL` resolves dot segments away, so they must be found in the raw text.
  const rawPath = uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").split(/[?#]/)[0] ?? "";
  if (rawPath.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) {
    problems.push({
      rule: "no_dot_segments",
      level: "error",
      message: "The redirect URI path contains '.' or '..' segments.",
      fix: "Write the path without dot segments, exactly as the browser will request it.",
    });
  }
  if (uri.includes("*")) {
    problems.push({
      rule: "no_wildcard",
      level: "error",
      message: "The redirect URI contains '*'; Airtable matches redirect URIs exactly, without wildcards.",
      fix: "Register and use the exact URI.",
    });
  }
  if (!isExemptHost(host) && !isIpLiteral(host) && !endsInPublicSuffix(host)) {
    problems.push({
      rule: "public_suffix",
      level: "error",
      message: `The redirect URI host "${host}" does not end in a public suffix; Airtable requires one (except for localhost).`,
      fix: "Use a domain under a public suffix (such as app.example.com or you.github.io), or localhost for a local callback.",
    });
  }
  return problems;
}

/** A redirect URI that comes back to this machine over plain HTTP, where a local server can catch it. */
export interface LoopbackRedirect {
  /** The port the browser will connect to: the URI's, else 80 (http's default). */
  port: number;
  /** False when the URI names no port (`http://localhost/callback` means port 80). */
  portGiven: boolean;
  path: string;
}

/**
 * The one rule for "can a local callback server receive this redirect": plain `http:` to one of
 * the two hosts Airtable exempts from HTTPS (localhost, 127.0.0.1). Anything else (https, another
 * host) comes back to a server this process cannot be. Undefined when the rule does not hold.
 *
 * @example
 * loopbackRedirect("http://localhost:8085/callback"); // { port: 8085, portGiven: true, path: "/callback" }
 * loopbackRedirect("http://localhost/callback"); // { port: 80, portGiven: false, path: "/callback" }
 * loopbackRedirect("https://localhost:8085/callback"); // undefined
 */
export function loopbackRedirect(uri: string): LoopbackRedirect | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" || !isExemptHost(url.hostname.toLowerCase())) return undefined;
  // `new URL` drops a port equal to the scheme's default (":80"), so read the raw authority.
  const portGiven = /^http:\/\/[^/?#]*:\d+(?:[/?#]|$)/i.test(uri.trim());
  return { port: Number(url.port || 80), portGiven, path: url.pathname };
}

/**
 * Where Airtable's OAuth server and Web API live, and how to spot the wrong URLs people
 * copy from other providers' examples (Google's token URL, `api.airtable.com/oauth/token`).
 */

/** Airtable's OAuth server (authorize page and token endpoint). */
export const DEFAULT_OAUTH_URL = "https://airtable.com";
/** Airtable's Web API. */
export const DEFAULT_API_URL = "https://api.airtable.com";
/**
 * The redirect URI used when AIRTABLE_REDIRECT_URI is unset: the `airlock login` loopback callback.
 * Register exactly this URI with the integration to use the CLI.
 */
export const DEFAULT_REDIRECT_URI = "http://localhost:8085/callback";
/** Path of the authorization endpoint, relative to the OAuth base URL. */
export const AUTHORIZE_PATH = "/oauth2/v1/authorize";
/** Path of the token endpoint (code exchange and refresh), relative to the OAuth base URL. */
export const TOKEN_PATH = "/oauth2/v1/token";

/** Where to register an integration (quoted in hints). */
export const REGISTER_URL = "https://airtable.com/create/oauth";

/**
 * The authorize and token URLs under an OAuth base URL (which may carry a path prefix).
 *
 * @example
 * oauthEndpoints("https://airtable.com").tokenEndpoint.href; // "https://airtable.com/oauth2/v1/token"
 */
export function oauthEndpoints(oauthUrl: string): { authorizationEndpoint: URL; tokenEndpoint: URL } {
  return {
    authorizationEndpoint: joinPath(oauthUrl, AUTHORIZE_PATH),
    tokenEndpoint: joinPath(oauthUrl, TOKEN_PATH),
  };
}

/**
 * Appends `path` to a base URL, keeping the base's own path prefix (unlike `new URL(path, base)`).
 *
 * @example
 * joinPath("http://127.0.0.1:4010/", "/v0/meta/whoami").href; // "http://127.0.0.1:4010/v0/meta/whoami"
 */
export function joinPath(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = "";
  url.hash = "";
  return url;
}

/**
 * True for hosts that never leave this machine (`localhost`, `127.0.0.0/8`, `::1`). Only these may
 * be reached over plain HTTP (the emulator).
 *
 * @example
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("airtable.com"); // false
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    host === "::1"
  );
}

/** Which setting a URL came from, so a finding can say what to change. */
export type EndpointKind = "oauth" | "api";

/** A misconfigured endpoint, with the fix. */
export interface EndpointProblem {
  level: "error" | "warn";
  message: string;
  fix: string;
}

const GOOGLE_HOSTS = ["oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com", "googleapis.com"];

/**
 * Finds the classic wrong endpoints: Google's OAuth URLs (from `InstalledAppFlow` examples),
 * `api.airtable.com/oauth/token`, the API host used as the OAuth server (or the reverse), a full
 * endpoint path where a base URL belongs, and plain HTTP to a non-loopback host.
 *
 * @example
 * checkEndpoint("https://oauth2.googleapis.com/token", "oauth")[0]?.message;
 * // "AIRTABLE_OAUTH_URL points at Google's OAuth server (oauth2.googleapis.com) …"
 */
export function checkEndpoint(value: string, kind: EndpointKind): EndpointProblem[] {
  const variable = kind === "oauth" ? "AIRTABLE_OAUTH_URL" : "AIRTABLE_API_URL";
  const expected = kind === "oauth" ? DEFAULT_OAUTH_URL : DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [
      { level: "error", message: `${variable} is not an absolute URL.`, fix: `Set ${variable}=${expected}.` },
    ];
  }
  const problems: EndpointProblem[] = [];
  const host = url.hostname.toLowerCase();
  const path = url.pathname.replace(/\/+$/, "");
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push({
      level: "error",
      message: `${variable} uses the scheme ${url.protocol}; only https is possible.`,
      fix: `Set ${variable}=${expected}.`,
    });
  } else if (url.protocol === "http:" && !isLoopbackHost(host)) {
    problems.push({
      level: "error",
      message: `${variable} uses plain http to ${host}; tokens would cross the network unencrypted.`,
      fix: `Use https (${expected}); plain http is only allowed for localhost (the emulator).`,
    });
  }
  let wrongHost = false;
  if (GOOGLE_HOSTS.some((g) => host === g || host.endsWith(`.${g}`))) {
    wrongHost = true;
    problems.push({
      level: "error",
      message: `${variable} points at Google's OAuth server (${host}), not Airtable's.`,
      fix: `Set ${variable}=${expected} (Airtable's token endpoint is ${DEFAULT_OAUTH_URL}${TOKEN_PATH}).`,
    });
  }
  if (kind === "oauth" && host === "api.airtable.com") {
    wrongHost = true;
    problems.push({
      level: "error",
      message: `${variable} points at api.airtable.com, which is the Web API, not the OAuth server (there is no api.airtable.com/oauth/token).`,
      fix: `Set ${variable}=${DEFAULT_OAUTH_URL}; tokens come from ${DEFAULT_OAUTH_URL}${TOKEN_PATH}.`,
    });
  }
  if (kind === "api" && host === "airtable.com") {
    wrongHost = true;
    problems.push({
      level: "error",
      message: `${variable} points at airtable.com, which is the OAuth server, not the Web API.`,
      fix: `Set ${variable}=${DEFAULT_API_URL}.`,
    });
  }
  // A wrong host already says "use the default"; suggesting its origin without the path would not help.
  if (!wrongHost && /\/oauth2?\/(?:v1\/)?(?:token|authorize)$|\/token$|\/v0$/.test(path)) {
    problems.push({
      level: "error",
      message: `${variable} includes an endpoint path (${path}); it must be the base URL only.`,
      fix: `Set ${variable}=${url.origin} (Airlock appends ${kind === "oauth" ? `${AUTHORIZE_PATH} and ${TOKEN_PATH}` : "/v0/…"} itself).`,
    });
  }
  const official = kind === "oauth" ? "airtable.com" : "api.airtable.com";
  if (problems.length === 0 && host !== official && !isLoopbackHost(host)) {
    problems.push({
      level: "warn",
      message: `${variable} is ${url.origin}, not Airtable's ${expected}.`,
      fix: `Fine for a proxy or a remote emulator; otherwise unset ${variable} to use ${expected}.`,
    });
  }
  if (url.username || url.password || url.search || url.hash) {
    problems.push({
      level: "error",
      message: `${variable} must not carry credentials, a query or a fragment.`,
      fix: `Set ${variable}=${url.origin}.`,
    });
  }
  return problems;
}

/**
 * Reading the AIRTABLE_* settings, and `airlock doctor`'s checks of them against Airtable's rules.
 */
import { AirlockError, isAirlockError } from "../errors.js";
import {
  checkEndpoint,
  DEFAULT_API_URL,
  DEFAULT_OAUTH_URL,
  joinPath,
  oauthEndpoints,
  REGISTER_URL,
} from "./endpoints.js";
import { checkRedirectUri } from "./redirect-uri.js";
import { DEFAULT_SCOPES, parseScopes } from "./scopes.js";
import type { AirtableOAuthConfig } from "./types.js";

/** Values used when the matching variable is unset (the CLI passes its loopback redirect URI). */
export type AirtableConfigDefaults = Partial<AirtableOAuthConfig>;

/** One line of `airlock doctor`. */
export interface DoctorCheck {
  /** Stable machine name, e.g. `client_id`, `redirect_uri`, `oauth_url`, `oauth_reachable`. */
  name: string;
  ok: boolean;
  level: "ok" | "warn" | "error";
  message: string;
  /** What to do; empty when ok. */
  fix: string;
}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

const ok = (name: string, message: string): DoctorCheck => ({
  name,
  ok: true,
  level: "ok",
  message,
  fix: "",
});
const bad = (name: string, level: "warn" | "error", message: string, fix: string): DoctorCheck => ({
  name,
  ok: level === "warn",
  level,
  message,
  fix,
});

/**
 * Checks every setting and returns one line per check, never throwing. Works on a raw
 * environment, so `airlock doctor` can report everything that is wrong at once.
 *
 * @example
 * for (const c of doctorChecks(process.env, { redirectUri: "http://localhost:8085/callback" })) {
 *   print(`${c.level.toUpperCase()} ${c.message}${c.fix ? ` → ${c.fix}` : ""}`);
 * }
 */
export function doctorChecks(env: Env = process.env, defaults: AirtableConfigDefaults = {}): DoctorCheck[] {
  return collect(env, defaults).checks;
}

/**
 * The same checks for a config already in hand (e.g. one the service assembled itself).
 *
 * @example
 * const problems = doctorChecksForConfig(config).filter((c) => c.level === "error");
 */
export function doctorChecksForConfig(config: AirtableOAuthConfig): DoctorCheck[] {
  return doctorChecks(configToEnv(config));
}

/**
 * The AIRTABLE_* variables that describe `config` (secret included when present): for handing a
 * config to a child process.
 *
 * @example
 * spawn("airlock", ["token"], { env: { ...process.env, ...configToEnv(config) } });
 */
export function configToEnv(config: AirtableOAuthConfig): Record<string, string> {
  return {
    AIRTABLE_CLIENT_ID: config.clientId,
    ...(config.clientSecret ? { AIRTABLE_CLIENT_SECRET: config.clientSecret } : {}),
    AIRTABLE_REDIRECT_URI: config.redirectUri,
    AIRTABLE_SCOPES: config.scopes.join(" "),
    AIRTABLE_OAUTH_URL: config.oauthUrl,
    AIRTABLE_API_URL: config.apiUrl,
  };
}

/**
 * Reads the integration's settings from AIRTABLE_CLIENT_ID, AIRTABLE_CLIENT_SECRET (optional),
 * AIRTABLE_REDIRECT_URI, AIRTABLE_SCOPES (space-separated), AIRTABLE_OAUTH_URL and
 * AIRTABLE_API_URL. Throws `config_invalid` for the first setting that breaks a rule; its
 * message names the variable and its hint says the fix.
 *
 * @example
 * const config = readAirtableConfig(process.env, { redirectUri: "http://localhost:8085/callback" });
 */
export function readAirtableConfig(
  env: Env = process.env,
  defaults: AirtableConfigDefaults = {},
): AirtableOAuthConfig {
  const { config, checks } = collect(env, defaults);
  const error = checks.find((c) => c.level === "error");
  if (error || !config) {
    throw new AirlockError("config_invalid", error?.message ?? "The Airtable configuration is incomplete.", {
      hint: error?.fix ?? "Run `airlock doctor` to see which setting is missing.",
      details: { check: error?.name },
    });
  }
  return config;
}

function collect(
  env: Env,
  defaults: AirtableConfigDefaults,
): { config?: AirtableOAuthConfig; checks: DoctorCheck[] } {
  const checks: DoctorCheck[] = [];

  const clientId = value(env, "AIRTABLE_CLIENT_ID") ?? defaults.clientId;
  if (!clientId) {
    checks.push(
      bad(
        "client_id",
        "error",
        "AIRTABLE_CLIENT_ID is not set.",
        `Register an integration at ${REGISTER_URL} and set AIRTABLE_CLIENT_ID to its client ID.`,
      ),
    );
  } else if (/\s|[^\x21-\x7e]/.test(clientId)) {
    checks.push(
      bad(
        "client_id",
        "error",
        "AIRTABLE_CLIENT_ID contains spaces or unprintable characters.",
        "Copy the client ID again from the integration's page, without quotes or spaces.",
      ),
    );
  } else if (/\.apps\.googleusercontent\.com$/.test(clientId)) {
    checks.push(
      bad(
        "client_id",
        "error",
        "AIRTABLE_CLIENT_ID is a Google OAuth client ID, not an Airtable one.",
        `Register an Airtable integration at ${REGISTER_URL} and use its client ID.`,
      ),
    );
  } else {
    checks.push(ok("client_id", "AIRTABLE_CLIENT_ID is set."));
  }

  // Read raw: a secret of only spaces is a paste mistake worth reporting, not "no secret".
  const rawSecret = env.AIRTABLE_CLIENT_SECRET;
  const clientSecret = value(env, "AIRTABLE_CLIENT_SECRET") ?? defaults.clientSecret;
  if (rawSecret !== undefined && rawSecret !== "" && rawSecret.trim() === "") {
    checks.push(
      bad(
        "client_secret",
        "error",
        "AIRTABLE_CLIENT_SECRET is set but blank.",
        "Unset it for a public client (PKCE only), or paste the secret shown when you generated it.",
      ),
    );
  } else if (clientSecret && rawSecret !== undefined && rawSecret !== rawSecret.trim()) {
    checks.push(
      bad(
        "client_secret",
        "warn",
        "AIRTABLE_CLIENT_SECRET has leading or trailing spaces; they were removed.",
        "Remove the spaces from the variable.",
      ),
    );
  } else if (clientSecret) {
    checks.push(
      ok(
        "client_secret",
        "AIRTABLE_CLIENT_SECRET is set: token requests use HTTP Basic authentication (confidential client).",
      ),
    );
  } else {
    checks.push(
      ok(
        "client_secret",
        "AIRTABLE_CLIENT_SECRET is not set: public client (PKCE, client_id in the body, no Basic authentication). If the integration has a secret, Airtable will answer invalid_client until you set it.",
      ),
    );
  }

  const redirectUri = value(env, "AIRTABLE_REDIRECT_URI") ?? defaults.redirectUri;
  if (!redirectUri) {
    checks.push(
      bad(
        "redirect_uri",
        "error",
        "AIRTABLE_REDIRECT_URI is not set.",
        "Set AIRTABLE_REDIRECT_URI to a redirect URL registered with the integration, e.g. http://localhost:8085/callback.",
      ),
    );
  } else {
    const problems = checkRedirectUri(redirectUri);
    for (const p of problems) {
      checks.push(bad("redirect_uri", p.level, `AIRTABLE_REDIRECT_URI: ${p.message}`, p.fix));
    }
    if (!problems.some((p) => p.level === "error")) {
      checks.push(
        ok(
          "redirect_uri",
          `AIRTABLE_REDIRECT_URI is ${redirectUri}; it must be registered with the integration exactly like this (port and trailing slash included).`,
        ),
      );
    }
  }

  let scopes: string[] | undefined;
  const rawScopes = value(env, "AIRTABLE_SCOPES");
  try {
    scopes = parseScopes(rawScopes ?? defaults.scopes ?? []);
    checks.push(
      ok("scopes", `AIRTABLE_SCOPES: ${scopes.join(" ")} (each must also be enabled on the integration).`),
    );
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    const fix =
      rawScopes || defaults.scopes ? err.hint : `Set AIRTABLE_SCOPES, e.g. "${DEFAULT_SCOPES.join(" ")}".`;
    checks.push(bad("scopes", "error", `AIRTABLE_SCOPES: ${err.message}`, fix));
  }

  const oauthUrl = value(env, "AIRTABLE_OAUTH_URL") ?? defaults.oauthUrl ?? DEFAULT_OAUTH_URL;
  const apiUrl = value(env, "AIRTABLE_API_URL") ?? defaults.apiUrl ?? DEFAULT_API_URL;
  for (const [name, url, kind] of [
    ["oauth_url", oauthUrl, "oauth"],
    ["api_url", apiUrl, "api"],
  ] as const) {
    const problems = checkEndpoint(url, kind);
    for (const p of problems) checks.push(bad(name, p.level, p.message, p.fix));
    if (!problems.some((p) => p.level === "error")) {
      const variable = kind === "oauth" ? "AIRTABLE_OAUTH_URL" : "AIRTABLE_API_URL";
      const shown = kind === "oauth" ? oauthEndpoints(url).tokenEndpoint.href : url;
      checks.push(ok(name, `${variable}: ${kind === "oauth" ? `token endpoint ${shown}` : shown}.`));
    }
  }

  if (checks.some((c) => c.level === "error") || !clientId || !redirectUri || !scopes) return { checks };
  return {
    checks,
    config: { clientId, clientSecret: clientSecret || undefined, redirectUri, scopes, oauthUrl, apiUrl },
  };
}

/**
 * Checks that the token endpoint and the Web API answer like Airtable does: an empty POST to the
 * token endpoint must come back as a JSON OAuth error, and an unauthenticated whoami as a JSON 401.
 * No credentials are sent.
 *
 * @example
 * const lines = await checkReachability(config, fetch);
 */
export async function checkReachability(
  config: Pick<AirtableOAuthConfig, "oauthUrl" | "apiUrl">,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 10_000,
): Promise<DoctorCheck[]> {
  const token = oauthEndpoints(config.oauthUrl).tokenEndpoint;
  const whoami = joinPath(config.apiUrl, "/v0/meta/whoami");
  const probe = async (name: string, label: string, url: URL, init: RequestInit): Promise<DoctorCheck> => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        ...init,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === "TimeoutError" ? "timed out" : "failed";
      return bad(
        name,
        "error",
        `${label} ${url.href} could not be reached (${reason}).`,
        "Check the network, a proxy (HTTPS_PROXY), and the URL setting.",
      );
    }
    const body: unknown = await response.json().catch(() => undefined);
    const looksRight = typeof body === "object" && body !== null && "error" in body;
    if (looksRight && response.status >= 400 && response.status < 500) {
      return ok(name, `${label} ${url.href} answers (HTTP ${response.status}).`);
    }
    return bad(
      name,
      "error",
      `${label} ${url.href} answered HTTP ${response.status}${looksRight ? "" : " without a JSON error"}: it does not look like Airtable.`,
      name === "oauth_reachable"
        ? `Check AIRTABLE_OAUTH_URL (default ${DEFAULT_OAUTH_URL}).`
        : `Check AIRTABLE_API_URL (default ${DEFAULT_API_URL}).`,
    );
  };
  return Promise.all([
    probe("oauth_reachable", "Token endpoint", token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: "",
    }),
    probe("api_reachable", "Web API", whoami, { method: "GET", headers: { accept: "application/json" } }),
  ]);
}

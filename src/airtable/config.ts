/**
 * Reading the AIRTABLE_* settings, and `airlock doctor`'s checks of them against Airtable's rules.
 */
import { AirlockError, isAirlockError } from "../shared/errors.js";
import {
  checkEndpoint,
  DEFAULT_API_URL,
  DEFAULT_OAUTH_URL,
  DEFAULT_REDIRECT_URI,
  joinPath,
  oauthEndpoints,
  REGISTER_URL,
} from "./endpoints.js";
import { AirtableOAuth } from "./oauth.js";
import { generateCodeVerifier, generateState } from "./pkce.js";
import { checkRedirectUri } from "./redirect-uri.js";
import { DEFAULT_SCOPES, parseScopes } from "./scopes.js";
import type { AirtableOAuthConfig } from "./types.js";

/**
 * Values used when the matching variable is unset; they take precedence over the documented
 * defaults ({@link DEFAULT_REDIRECT_URI}, `DEFAULT_SCOPES`, Airtable's two URLs).
 */
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
 * Reads the integration's settings from AIRTABLE_CLIENT_ID (required), AIRTABLE_CLIENT_SECRET
 * (optional), AIRTABLE_REDIRECT_URI (default {@link DEFAULT_REDIRECT_URI}), AIRTABLE_SCOPES
 * (space-separated; default `DEFAULT_SCOPES`), AIRTABLE_OAUTH_URL (default https://airtable.com)
 * and AIRTABLE_API_URL (default https://api.airtable.com). `defaults` replaces the documented
 * defaults for unset variables (the service passes its own callback URL). Throws `config_invalid`
 * for the first setting that breaks a rule; its message names the variable and its hint says the fix.
 *
 * @example
 * const config = readAirtableConfig(); // process.env
 * const api = new AirtableApi({ accessToken, apiUrl: config.apiUrl });
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

/** One setting's value (undefined when it breaks a rule) and its doctor lines. */
interface Setting<T> {
  value: T | undefined;
  checks: DoctorCheck[];
}

function collect(
  env: Env,
  defaults: AirtableConfigDefaults,
): { config?: AirtableOAuthConfig; checks: DoctorCheck[] } {
  const clientId = clientIdSetting(env, defaults);
  const clientSecret = clientSecretSetting(env, defaults);
  const redirectUri = redirectUriSetting(env, defaults);
  const scopes = scopesSetting(env, defaults);
  const oauthUrl = endpointSetting(env, defaults, "oauth");
  const apiUrl = endpointSetting(env, defaults, "api");
  const checks = [clientId, clientSecret, redirectUri, scopes, oauthUrl, apiUrl].flatMap((s) => s.checks);
  if (checks.some((c) => c.level === "error")) return { checks };
  if (!clientId.value || !scopes.value || !redirectUri.value || !oauthUrl.value || !apiUrl.value)
    return { checks };
  return {
    checks,
    config: {
      clientId: clientId.value,
      clientSecret: clientSecret.value || undefined,
      redirectUri: redirectUri.value,
      scopes: scopes.value,
      oauthUrl: oauthUrl.value,
      apiUrl: apiUrl.value,
    },
  };
}

function clientIdSetting(env: Env, defaults: AirtableConfigDefaults): Setting<string> {
  const clientId = value(env, "AIRTABLE_CLIENT_ID") ?? defaults.clientId;
  const refuse = (message: string, fix: string) => ({
    value: undefined,
    checks: [bad("client_id", "error", message, fix)],
  });
  if (!clientId) {
    return refuse(
      "AIRTABLE_CLIENT_ID is not set.",
      `Register an integration at ${REGISTER_URL} and set AIRTABLE_CLIENT_ID to its client ID.`,
    );
  }
  if (/\s|[^\x21-\x7e]/.test(clientId)) {
    return refuse(
      "AIRTABLE_CLIENT_ID contains spaces or unprintable characters.",
      "Copy the client ID again from the integration's page, without quotes or spaces.",
    );
  }
  if (/\.apps\.googleusercontent\.com$/.test(clientId)) {
    return refuse(
      "AIRTABLE_CLIENT_ID is a Google OAuth client ID, not an Airtable one.",
      `Register an Airtable integration at ${REGISTER_URL} and use its client ID.`,
    );
  }
  return { value: clientId, checks: [ok("client_id", "AIRTABLE_CLIENT_ID is set.")] };
}

function clientSecretSetting(env: Env, defaults: AirtableConfigDefaults): Setting<string> {
  // Read raw: a secret of only spaces is a paste mistake worth reporting, not "no secret".
  const rawSecret = env.AIRTABLE_CLIENT_SECRET;
  const clientSecret = value(env, "AIRTABLE_CLIENT_SECRET") ?? defaults.clientSecret;
  if (rawSecret !== undefined && rawSecret !== "" && rawSecret.trim() === "") {
    const fix = "Unset it for a public client (PKCE only), or paste the secret shown when you generated it.";
    return {
      value: undefined,
      checks: [bad("client_secret", "error", "AIRTABLE_CLIENT_SECRET is set but blank.", fix)],
    };
  }
  if (clientSecret && rawSecret !== undefined && rawSecret !== rawSecret.trim()) {
    const message = "AIRTABLE_CLIENT_SECRET has leading or trailing spaces; they were removed.";
    return {
      value: clientSecret,
      checks: [bad("client_secret", "warn", message, "Remove the spaces from the variable.")],
    };
  }
  const message = clientSecret
    ? "AIRTABLE_CLIENT_SECRET is set: token requests use HTTP Basic authentication (confidential client)."
    : "AIRTABLE_CLIENT_SECRET is not set: public client (PKCE, client_id in the body, no Basic authentication). If the integration has a secret, Airtable will answer invalid_client until you set it.";
  return { value: clientSecret, checks: [ok("client_secret", message)] };
}

function redirectUriSetting(env: Env, defaults: AirtableConfigDefaults): Setting<string> {
  const redirectUri = value(env, "AIRTABLE_REDIRECT_URI") || defaults.redirectUri || DEFAULT_REDIRECT_URI;
  const problems = checkRedirectUri(redirectUri);
  const checks = problems.map((p) =>
    bad("redirect_uri", p.level, `AIRTABLE_REDIRECT_URI: ${p.message}`, p.fix),
  );
  if (problems.some((p) => p.level === "error")) return { value: undefined, checks };
  checks.push(
    ok(
      "redirect_uri",
      `AIRTABLE_REDIRECT_URI is ${redirectUri}; it must be registered with the integration exactly like this (port and trailing slash included).`,
    ),
  );
  return { value: redirectUri, checks };
}

function scopesSetting(env: Env, defaults: AirtableConfigDefaults): Setting<string[]> {
  const rawScopes = value(env, "AIRTABLE_SCOPES");
  try {
    const scopes = parseScopes(rawScopes ?? defaults.scopes ?? DEFAULT_SCOPES);
    const message = `AIRTABLE_SCOPES: ${scopes.join(" ")} (each must also be enabled on the integration).`;
    return { value: scopes, checks: [ok("scopes", message)] };
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    const fix = rawScopes ? err.hint : `Set AIRTABLE_SCOPES, e.g. "${DEFAULT_SCOPES.join(" ")}".`;
    return { value: undefined, checks: [bad("scopes", "error", `AIRTABLE_SCOPES: ${err.message}`, fix)] };
  }
}

function endpointSetting(env: Env, defaults: AirtableConfigDefaults, kind: "oauth" | "api"): Setting<string> {
  const [name, variable, url] =
    kind === "oauth"
      ? ([
          "oauth_url",
          "AIRTABLE_OAUTH_URL",
          value(env, "AIRTABLE_OAUTH_URL") ?? defaults.oauthUrl ?? DEFAULT_OAUTH_URL,
        ] as const)
      : ([
          "api_url",
          "AIRTABLE_API_URL",
          value(env, "AIRTABLE_API_URL") ?? defaults.apiUrl ?? DEFAULT_API_URL,
        ] as const);
  const problems = checkEndpoint(url, kind);
  const checks = problems.map((p) => bad(name, p.level, p.message, p.fix));
  if (problems.some((p) => p.level === "error")) return { value: undefined, checks };
  const shown = kind === "oauth" ? `token endpoint ${oauthEndpoints(url).tokenEndpoint.href}` : url;
  checks.push(ok(name, `${variable}: ${shown}.`));
  return { value: url, checks };
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

/**
 * Asks Airtable whether it knows the client, with one authorization_code request carrying a dummy
 * code and a dummy verifier (and the client secret when one is configured), sent exactly as a login
 * sends it. Airtable checks the client before the code: a client it does not know (or a secret that
 * does not match) gets `invalid_client` (HTTP 401), a known one `invalid_grant` (HTTP 400) for the
 * made-up code. Harmless: the code matches no authorization, and no refresh token is involved.
 *
 * @example
 * const line = await checkClientRegistration(readAirtableConfig());
 * line.level; // "error" with "Airtable does not know this client id" for a wrong AIRTABLE_CLIENT_ID
 */
export async function checkClientRegistration(
  config: AirtableOAuthConfig,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<DoctorCheck> {
  const withSecret = Boolean(config.clientSecret);
  const client = new AirtableOAuth(config, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  const sent = `doctor sent one authorization_code request with a dummy authorization code${withSecret ? ", authenticated with the client secret" : ""}`;
  let error: unknown;
  try {
    await client.exchangeCode({
      code: `airlock-doctor-${generateState()}`,
      codeVerifier: generateCodeVerifier(),
    });
  } catch (err) {
    error = err;
  }
  if (!isAirlockError(error)) {
    if (error !== undefined) throw error;
    return bad(
      "client_registered",
      "error",
      `The token endpoint issued tokens for a dummy authorization code (${sent}): it is not Airtable.`,
      `Check AIRTABLE_OAUTH_URL (default ${DEFAULT_OAUTH_URL}).`,
    );
  }
  const answer = error.details?.error;
  const status = error.details?.status;
  const answered = `the answer was ${typeof answer === "string" ? answer : "no OAuth error"}${typeof status === "number" ? `, HTTP ${status}` : ""}`;
  if (error.code === "invalid_grant") {
    return ok(
      "client_registered",
      `Airtable knows this client id${withSecret ? " and accepts the client secret" : ""} (${sent}; ${answered}: the code was refused, not the client).`,
    );
  }
  if (error.code === "invalid_client") {
    return withSecret
      ? bad(
          "client_registered",
          "error",
          `Airtable does not accept this client id and secret: it does not know the client id, or the client secret does not match it (${sent}; ${answered}).`,
          `Copy both again from the integration's page at ${REGISTER_URL} (generating a new secret replaces the old one). If the integration has no client secret, unset AIRTABLE_CLIENT_SECRET.`,
        )
      : bad(
          "client_registered",
          "error",
          `Airtable does not know this client id, or the integration has a client secret and AIRTABLE_CLIENT_SECRET is not set (${sent}; ${answered}).`,
          `Copy the client id again from the integration's page at ${REGISTER_URL}; if the integration has a client secret, set AIRTABLE_CLIENT_SECRET to it.`,
        );
  }
  return bad(
    "client_registered",
    "warn",
    `Could not tell whether Airtable knows this client id (${sent}): ${error.message}`,
    error.hint || "Run `airlock doctor` again later.",
  );
}

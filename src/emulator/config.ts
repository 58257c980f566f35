import { resolve } from "node:path";
import { checkRedirectUri } from "../airtable/redirect-uri.js";
import { AirlockError } from "../shared/errors.js";
import { BASIC_SCOPES, isKnownScope } from "./scopes.js";
import { parseSeedData, type SeedData } from "./seed-data.js";

/** What an Airtable OAuth integration registration holds, plus emulator tuning. */
export interface EmulatorOptions {
  /** 0 = a random free port (default 0). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default "airlock-emulator-client". */
  clientId?: string;
  /** Absent = public client: Basic auth is then FORBIDDEN (401 invalid_client). */
  clientSecret?: string;
  /** Registered redirect URIs, matched exactly. Default ["http://localhost:8085/callback"]. */
  redirectUris?: string[];
  /** Scopes enabled on the integration (the ceiling). Default: every basic scope. */
  scopes?: string[];
  /** Skip the consent page: grant all requested scopes and all bases at once. */
  autoApprove?: boolean;
  /** Seconds, default 3600. */
  accessTokenTtl?: number;
  /** Seconds, default 5184000 (60 days, rolling). */
  refreshTokenTtl?: number;
  /** Milliseconds added to every token endpoint answer. */
  latencyMs?: number;
  /** Milliseconds added to every /v0 answer (default 0). */
  apiLatencyMs?: number;
  /** Name shown on the consent page. Default "Airlock Emulator Integration". */
  integrationName?: string;
  /** Bases per page of GET /v0/meta/bases. Airtable's is 1000; lower it to test pagination. */
  basesPageSize?: number;
  /**
   * Keep grants, tokens (as SHA-256 hashes), rotation history, the clock offset and the enabled
   * scopes in this JSON file: loaded at start when it exists, saved (atomically, mode 0600, coalesced)
   * after every change, so a restarted emulator still honours the tokens it issued.
   * Absent = memory only.
   */
  stateFile?: string;
  /**
   * The user's own bases, tables, fields, views and records (parsed JSON, the format of
   * `airlock emulator --data FILE`) instead of the built-in sample. Checked at start: a bad value
   * is AirlockError("config_invalid") naming its JSON path.
   */
  data?: unknown;
}

/** Options after defaults and validation. */
export interface EmulatorConfig {
  port: number;
  host: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUris: readonly string[];
  scopes: readonly string[];
  autoApprove: boolean;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  latencyMs: number;
  apiLatencyMs: number;
  integrationName: string;
  basesPageSize: number;
  /** Absolute path, or undefined for memory only. */
  stateFile: string | undefined;
  /** Checked seed data, or undefined for the built-in sample. */
  data: SeedData | undefined;
}

/** Codes must be redeemed within 10 minutes [OAR]. */
export const CODE_TTL_SECONDS = 600;
/** How long a consent page stays answerable. */
export const CONSENT_TTL_SECONDS = 3600;

function fail(setting: string, problem: string, hint: string): never {
  throw new AirlockError("config_invalid", `Emulator option ${setting}: ${problem}`, { hint });
}

function integer(
  setting: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(
      setting,
      `expected an integer from ${min} to ${max}, got ${value}`,
      `Pass a whole number in that range.`,
    );
  }
  return value;
}

/**
 * Checks a redirect URI against Airtable's registration rules (the library's
 * {@link checkRedirectUri}: one implementation for both); returns the first refusal, or undefined.
 */
export function redirectUriProblem(uri: string): string | undefined {
  return checkRedirectUri(uri).find((problem) => problem.level === "error")?.message;
}

/**
 * Applies defaults and validates every option; throws AirlockError("config_invalid") naming the option.
 *
 * @example
 * const config = resolveConfig({ clientId: "abc", autoApprove: true });
 * config.redirectUris; // ["http://localhost:8085/callback"]
 */
export function resolveConfig(options: EmulatorOptions = {}): EmulatorConfig {
  const clientId = options.clientId ?? "airlock-emulator-client";
  if (clientId.length === 0 || /\s/.test(clientId)) {
    fail("clientId", "must be a non-empty string without spaces", "Pass the client id your app will send.");
  }
  if (options.clientSecret !== undefined && options.clientSecret.length === 0) {
    fail("clientSecret", "is empty", "Omit it for a public client, or pass a non-empty secret.");
  }
  const redirectUris = options.redirectUris ?? ["http://localhost:8085/callback"];
  if (redirectUris.length === 0) {
    fail(
      "redirectUris",
      "needs at least one URI",
      "Register the URI your app redirects to, e.g. http://localhost:8085/callback.",
    );
  }
  for (const uri of redirectUris) {
    const problem = checkRedirectUri(uri).find((p) => p.level === "error");
    if (problem) {
      fail(
        "redirectUris",
        `${JSON.stringify(uri)}: ${problem.message}`,
        `Airtable refuses to register such a URI. ${problem.fix}`,
      );
    }
  }
  const scopes = options.scopes ?? [...BASIC_SCOPES];
  if (scopes.length === 0)
    fail("scopes", "needs at least one scope", `Enable some of: ${BASIC_SCOPES.join(" ")}.`);
  for (const scope of scopes) {
    if (!isKnownScope(scope)) {
      fail(
        "scopes",
        `unknown scope ${JSON.stringify(scope)}`,
        `Known basic scopes: ${BASIC_SCOPES.join(" ")}.`,
      );
    }
  }
  if (new Set(scopes).size !== scopes.length) fail("scopes", "lists a scope twice", "List each scope once.");
  const host = options.host ?? "127.0.0.1";
  if (host.length === 0) fail("host", "is empty", "Use 127.0.0.1 or another interface address.");
  if (
    options.stateFile !== undefined &&
    (options.stateFile.length === 0 || options.stateFile.includes("\0"))
  ) {
    fail(
      "stateFile",
      "is not a usable file path",
      "Pass a path such as .airlock/emulator-state.json, or omit it.",
    );
  }
  return {
    port: integer("port", options.port, 0, 0, 65535),
    host,
    clientId,
    clientSecret: options.clientSecret,
    redirectUris: [...redirectUris],
    scopes: [...scopes],
    autoApprove: options.autoApprove ?? false,
    accessTokenTtl: integer("accessTokenTtl", options.accessTokenTtl, 3600, 1, 10 * 365 * 86_400),
    refreshTokenTtl: integer("refreshTokenTtl", options.refreshTokenTtl, 5_184_000, 1, 10 * 365 * 86_400),
    latencyMs: integer("latencyMs", options.latencyMs, 0, 0, 600_000),
    apiLatencyMs: integer("apiLatencyMs", options.apiLatencyMs, 0, 0, 600_000),
    integrationName: options.integrationName ?? "Airlock Emulator Integration",
    basesPageSize: integer("basesPageSize", options.basesPageSize, 1000, 1, 1000),
    stateFile: options.stateFile === undefined ? undefined : resolve(options.stateFile),
    data: options.data === undefined ? undefined : parseSeedData(options.data),
  };
}

import { resolve } from "node:path";
import { checkRedirectUri } from "../airtable/redirect-uri.js";
import { AirlockError } from "../shared/errors.js";
import { BASIC_SCOPES, isKnownScope } from "./scopes.js";
import { parseSeedData, type SeedData } from "./seed-data.js";

/** The client id of the first integration when `clientId` is not given. */
export const DEFAULT_CLIENT_ID = "airlock-emulator-client";
const DEFAULT_REDIRECT_URI = "http://localhost:8085/callback";
const DEFAULT_INTEGRATION_NAME = "Airlock Emulator Integration";

/**
 * One more OAuth integration registered on the emulator (option `integrations`), as Airtable hosts
 * many: its own client id, secret (absent = public client), redirect URIs, scope ceiling and name.
 *
 * @example
 * const other: EmulatorIntegrationOptions = { clientId: "reports-app", clientSecret: "s3cret", name: "Reports" };
 */
export interface EmulatorIntegrationOptions {
  /** Required; unique among all the emulator's integrations. */
  clientId: string;
  /** Absent = public client: Basic auth is then FORBIDDEN (401 invalid_client). */
  clientSecret?: string;
  /** Matched exactly. Default ["http://localhost:8085/callback"]. */
  redirectUris?: string[];
  /** The ceiling. Default: every basic scope. */
  scopes?: string[];
  /** Shown on the consent page. Default: the client id. */
  name?: string;
}

/** One integration after defaults and validation. */
export interface EmulatorIntegration {
  clientId: string;
  clientSecret: string | undefined;
  redirectUris: readonly string[];
  scopes: readonly string[];
  name: string;
}

/** What an Airtable OAuth integration registration holds, plus emulator tuning. */
export interface EmulatorOptions {
  /** 0 = a random free port (default 0). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** The first integration's client id. Default "airlock-emulator-client". */
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
  /** The first integration's name on the consent page. Default "Airlock Emulator Integration". */
  integrationName?: string;
  /**
   * More integrations, hosted next to the first one. The top-level `clientId`, `clientSecret`,
   * `redirectUris`, `scopes` and `integrationName` always describe the FIRST integration (with
   * their defaults when absent); each entry here ADDS one after it, so
   * `{ integrations: [{ clientId: "b" }] }` hosts two: "airlock-emulator-client" and "b".
   * Client ids must be unique (the first one's included). Each integration has its own grants,
   * tokens, scope ceiling, enabled scopes and webhooks (2 per base per integration).
   *
   * @example
   * await startEmulator({
   *   clientId: "app-a", clientSecret: "secret-a",
   *   integrations: [{ clientId: "app-b", redirectUris: ["http://localhost:9000/cb"], name: "App B" }],
   * });
   */
  integrations?: EmulatorIntegrationOptions[];
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
  /** Every integration, the first one (the top-level fields below) first. */
  integrations: readonly EmulatorIntegration[];
  /** The first integration's client id (and so on for the next four fields). */
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

/** Where an integration's options came from, for error messages: top-level or `integrations[i]`. */
interface Origin {
  /** Prefix of the option names: "" (top-level) or "integrations[0]." */
  prefix: string;
  /** Appended to the option name, e.g. ` (client id "app-b")`. */
  suffix: string;
  /** The option that holds the name ("integrationName" or "integrations[0].name"). */
  nameOption: string;
}

function checkClientId(origin: Origin, clientId: unknown): string {
  if (typeof clientId !== "string" || clientId.length === 0 || /\s/.test(clientId)) {
    fail(
      `${origin.prefix}clientId`,
      "must be a non-empty string without spaces",
      "Pass the client id your app will send.",
    );
  }
  return clientId;
}

function checkRedirectUris(origin: Origin, redirectUris: readonly string[]): void {
  const setting = `${origin.prefix}redirectUris${origin.suffix}`;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    fail(
      setting,
      "needs at least one URI",
      "Register the URI your app redirects to, e.g. http://localhost:8085/callback.",
    );
  }
  for (const uri of redirectUris) {
    if (typeof uri !== "string") fail(setting, `${JSON.stringify(uri)} is not a string`, "List URI strings.");
    const problem = checkRedirectUri(uri).find((p) => p.level === "error");
    if (problem) {
      fail(
        setting,
        `${JSON.stringify(uri)}: ${problem.message}`,
        `Airtable refuses to register such a URI. ${problem.fix}`,
      );
    }
  }
}

function checkScopes(origin: Origin, scopes: readonly string[]): void {
  const setting = `${origin.prefix}scopes${origin.suffix}`;
  if (!Array.isArray(scopes) || scopes.length === 0)
    fail(setting, "needs at least one scope", `Enable some of: ${BASIC_SCOPES.join(" ")}.`);
  for (const scope of scopes) {
    if (!isKnownScope(scope)) {
      fail(
        setting,
        `unknown scope ${JSON.stringify(scope)}`,
        `Known basic scopes: ${BASIC_SCOPES.join(" ")}.`,
      );
    }
  }
  if (new Set(scopes).size !== scopes.length) fail(setting, "lists a scope twice", "List each scope once.");
}

/** One integration's defaults and checks; errors name the option (and the integration). */
function resolveIntegration(
  origin: Origin,
  options: EmulatorIntegrationOptions,
  name: string,
): EmulatorIntegration {
  const clientId = checkClientId(origin, options.clientId);
  const suffixed: Origin =
    origin.prefix === "" ? origin : { ...origin, suffix: ` (client id ${JSON.stringify(clientId)})` };
  const { clientSecret } = options;
  if (clientSecret !== undefined && (typeof clientSecret !== "string" || clientSecret.length === 0)) {
    fail(
      `${origin.prefix}clientSecret${suffixed.suffix}`,
      "is empty",
      "Omit it for a public client, or pass a non-empty secret.",
    );
  }
  const redirectUris = options.redirectUris ?? [DEFAULT_REDIRECT_URI];
  checkRedirectUris(suffixed, redirectUris);
  const scopes = options.scopes ?? [...BASIC_SCOPES];
  checkScopes(suffixed, scopes);
  // The top-level integrationName was never checked; keep accepting what it accepted.
  if (origin.prefix !== "" && (typeof name !== "string" || name.trim() === ""))
    fail(
      `${origin.nameOption}${suffixed.suffix}`,
      "is empty",
      "Pass the name the consent page shows, or omit it.",
    );
  return { clientId, clientSecret, redirectUris: [...redirectUris], scopes: [...scopes], name };
}

/** The first integration (top-level options), then each of `integrations`; client ids unique. */
function resolveIntegrations(options: EmulatorOptions): EmulatorIntegration[] {
  const first = resolveIntegration(
    { prefix: "", suffix: "", nameOption: "integrationName" },
    { ...options, clientId: options.clientId ?? DEFAULT_CLIENT_ID },
    options.integrationName ?? DEFAULT_INTEGRATION_NAME,
  );
  const extra = options.integrations ?? [];
  if (!Array.isArray(extra))
    fail(
      "integrations",
      "must be an array",
      "Pass [{ clientId, clientSecret?, redirectUris?, scopes?, name? }, …].",
    );
  const all = [first];
  extra.forEach((entry, index) => {
    const prefix = `integrations[${index}].`;
    if (typeof entry !== "object" || entry === null)
      fail(
        `integrations[${index}]`,
        "must be an object",
        "Pass { clientId, clientSecret?, redirectUris?, scopes?, name? }.",
      );
    const integration = resolveIntegration(
      { prefix, suffix: "", nameOption: `${prefix}name` },
      entry,
      entry.name ?? entry.clientId,
    );
    if (all.some((other) => other.clientId === integration.clientId)) {
      fail(
        `${prefix}clientId`,
        `client id ${JSON.stringify(integration.clientId)} is already used by another integration`,
        "Give every integration its own client id (the top-level clientId is the first integration's, default airlock-emulator-client).",
      );
    }
    all.push(integration);
  });
  return all;
}

/**
 * The integration a client id names, or undefined.
 *
 * @example
 * findIntegration(config, "app-b")?.clientSecret; // undefined for a public client
 */
export function findIntegration(config: EmulatorConfig, clientId: string): EmulatorIntegration | undefined {
  return config.integrations.find((integration) => integration.clientId === clientId);
}

/**
 * Applies defaults and validates every option; throws AirlockError("config_invalid") naming the
 * option (for `integrations`, its index and client id).
 *
 * @example
 * const config = resolveConfig({ clientId: "abc", autoApprove: true, integrations: [{ clientId: "xyz" }] });
 * config.redirectUris; // ["http://localhost:8085/callback"]
 * config.integrations.map((i) => i.clientId); // ["abc", "xyz"]
 */
export function resolveConfig(options: EmulatorOptions = {}): EmulatorConfig {
  const integrations = resolveIntegrations(options);
  const first = integrations[0]!;
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
    integrations,
    clientId: first.clientId,
    clientSecret: first.clientSecret,
    redirectUris: first.redirectUris,
    scopes: first.scopes,
    autoApprove: options.autoApprove ?? false,
    accessTokenTtl: integer("accessTokenTtl", options.accessTokenTtl, 3600, 1, 10 * 365 * 86_400),
    refreshTokenTtl: integer("refreshTokenTtl", options.refreshTokenTtl, 5_184_000, 1, 10 * 365 * 86_400),
    latencyMs: integer("latencyMs", options.latencyMs, 0, 0, 600_000),
    apiLatencyMs: integer("apiLatencyMs", options.apiLatencyMs, 0, 0, 600_000),
    integrationName: first.name,
    basesPageSize: integer("basesPageSize", options.basesPageSize, 1000, 1, 1000),
    stateFile: options.stateFile === undefined ? undefined : resolve(options.stateFile),
    data: options.data === undefined ? undefined : parseSeedData(options.data),
  };
}

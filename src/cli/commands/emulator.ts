/**
 * `airlock emulator`: flag parsing (through cli/args.ts, like every command), the startup summary,
 * and running until SIGINT/SIGTERM. The emulator itself is `startEmulator` (src/emulator/index.ts).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { EmulatorIntegrationOptions, EmulatorOptions } from "../../emulator/config.js";
import { type RunningEmulator, startEmulator } from "../../emulator/index.js";
import { BASIC_SCOPES } from "../../emulator/scopes.js";
import { SEED_FORMAT } from "../../emulator/seed-data.js";
import { AirlockError, errorCode, isAirlockError } from "../../shared/errors.js";
import { parseCommandArgs, parseIntegerFlag, usageError } from "../args.js";
import { ExitCode } from "../exit-codes.js";

/** The `--integrations` file's format, for --help and errors. */
export const INTEGRATIONS_FORMAT =
  '[{"clientId": "app-b", "clientSecret": "…", "redirectUris": ["http://localhost:9000/cb"], "scopes": ["data.records:read"], "name": "App B"}]';

export const EMULATOR_HELP = `Usage: airlock emulator [flags]

A faithful offline Airtable: OAuth server (/oauth2/v1/authorize, /oauth2/v1/token), the Web API an
OAuth app uses (whoami, bases, schema reads and writes, records, record comments, webhooks; 5 req/s
per base with Airtable's 429 and 30-second penalty) and a control API for tests.
Prints "Airtable emulator listening on URL" on stdout once ready.

Flags:
  --port N                 port to listen on (default 0 = a random free port)
  --host H                 interface to bind (default 127.0.0.1)
  --client-id ID           the (first) integration's client id (default airlock-emulator-client)
  --client-secret S        make the integration confidential (Basic auth then required); omit for a public client
  --redirect-uri URI       a registered redirect URI, matched exactly; repeat for several
                           (default http://localhost:8085/callback)
  --scopes "A B …"         scopes enabled on the integration (default: all basic scopes)
  --auto-approve           skip the consent page: grant every requested scope and all bases
  --access-token-ttl S     access token lifetime in seconds (default 3600)
  --refresh-token-ttl S    refresh token lifetime in seconds, rolling (default 5184000 = 60 days)
  --latency-ms N           delay every token endpoint answer by N ms (default 0)
  --api-latency-ms N       delay every /v0 answer by N ms (default 0)
  --state-file PATH        keep grants, tokens (SHA-256 hashes only), rotation history, the clock offset
                           and enabled scopes in this JSON file, so tokens survive a restart (loaded at
                           start if present; saved atomically, mode 0600, shortly after each change and
                           on exit). Damaged or from another version? Delete it to start fresh.
                           (default: memory only)
  --integrations FILE      host more OAuth integrations, next to the one the flags above describe (it
                           stays the first): a JSON array of objects with camelCase keys, the shape of
                           startEmulator's integrations option:
                           ${INTEGRATIONS_FORMAT}
                           clientId required and unique; clientSecret absent = public client; the
                           other keys default like the flags above (name: the client id)
  --data FILE              serve your own bases, tables, fields, views and records from this JSON file
                           instead of the built-in sample (ids optional: generated, the same every start;
                           writes are kept in memory, /__emulator/reset goes back to the file's data)
  -h, --help               show this help

Seed data (--data FILE):
  ${SEED_FORMAT}
  Field types and options as in Airtable's field model; a link field may name its table by name;
  record values as the records API returns them.

Control API (no auth; JSON bodies):
  GET  /__emulator/stats                          counters (authorizations, refreshes, api_requests, rate_limited, …)
  GET|POST /__emulator/clock {"advance_seconds"}  read or move the emulator clock forward
  GET|POST|DELETE /__emulator/faults              arm token/API faults ({"token": {…}}, {"api": {…}}), clear them
  GET|POST /__emulator/scopes {"scopes": […]}     an integration's enabled scopes (?client_id= / "client_id";
                                                  default the first integration)
  GET  /__emulator/grants                         live grants: [{id, client_id, scopes, bases}] (?client_id=)
  POST /__emulator/grants/find {"token"}          the grant an access or refresh token belongs to
  POST /__emulator/grants/:id/revoke              revoke one grant (the user removes this authorization)
  POST /__emulator/grants/:id/bases {"bases"}     change the bases it reaches: "all" or ["app…", …]
  POST /__emulator/revoke                         revoke every grant (the user removes the integration)
  GET  /__emulator/bases/:baseId/tables/:tableIdOrName/records
                                                  a table's records as stored, every field (null when empty)
  POST /__emulator/reset                          a fresh start: tokens, stats, faults, clock, scopes, data

Point Airlock at it with AIRTABLE_OAUTH_URL=URL and AIRTABLE_API_URL=URL.`;

/** Where the command writes, and what stops it (tests pass their own). */
export interface EmulatorCommandIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Aborting closes the emulator; default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
}

const FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  "redirect-uri": { type: "string", multiple: true },
  scopes: { type: "string" },
  "auto-approve": { type: "boolean" },
  "access-token-ttl": { type: "string" },
  "refresh-token-ttl": { type: "string" },
  "latency-ms": { type: "string" },
  "api-latency-ms": { type: "string" },
  "state-file": { type: "string" },
  data: { type: "string" },
  integrations: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Whole-number flags: [flag, option, smallest value]. TTLs of 0 would mint dead tokens. */
const NUMBER_FLAGS = [
  ["access-token-ttl", "accessTokenTtl", 1],
  ["refresh-token-ttl", "refreshTokenTtl", 1],
  ["latency-ms", "latencyMs", 0],
  ["api-latency-ms", "apiLatencyMs", 0],
] as const;

/** The emulator's options, plus the files to read at start (`--data`, `--integrations`). */
export interface EmulatorArgs extends EmulatorOptions {
  dataFile?: string;
  integrationsFile?: string;
}

/**
 * Parses `airlock emulator` flags into EmulatorOptions; throws an `invalid_input` AirlockError
 * naming the bad flag.
 */
export function parseEmulatorArgs(argv: string[]): EmulatorArgs | "help" {
  const { values } = parseCommandArgs("emulator", argv, FLAGS, 0);
  if (values.help) return "help";
  const options: EmulatorArgs = {};
  if (values.port !== undefined) options.port = parseIntegerFlag("emulator", "--port", values.port, 0, 65535);
  if (values.host !== undefined) options.host = values.host;
  if (values["client-id"] !== undefined) options.clientId = values["client-id"];
  if (values["client-secret"] !== undefined) options.clientSecret = values["client-secret"];
  if (values["redirect-uri"] !== undefined) options.redirectUris = values["redirect-uri"];
  if (values.scopes !== undefined) options.scopes = parseScopes(values.scopes);
  if (values["auto-approve"]) options.autoApprove = true;
  if (values["state-file"] !== undefined) {
    if (values["state-file"] === "") throw usageError("emulator", "--state-file needs a file path.");
    options.stateFile = values["state-file"];
  }
  if (values.data !== undefined) {
    if (values.data === "") throw usageError("emulator", "--data needs a JSON file path.");
    options.dataFile = values.data;
  }
  if (values.integrations !== undefined) {
    if (values.integrations === "") throw usageError("emulator", "--integrations needs a JSON file path.");
    options.integrationsFile = values.integrations;
  }
  for (const [flag, key, min] of NUMBER_FLAGS) {
    const raw = values[flag];
    if (raw !== undefined) options[key] = parseIntegerFlag("emulator", `--${flag}`, raw, min, 2 ** 31);
  }
  return options;
}

/** Reads a flag's JSON file; a missing, unreadable or malformed file is AirlockError("config_invalid"). */
function readJsonFile(path: string, flag: string, what: string, format: string): unknown {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new AirlockError(
      "config_invalid",
      `cannot read the ${what} ${file} (${errorCode(err) ?? "error"}).`,
      {
        hint: `Check the path given to ${flag} (relative paths start at the current folder) and that it is a readable file.`,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AirlockError(
      "config_invalid",
      `the ${what} ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      { hint: `Fix the JSON. The format: ${format}` },
    );
  }
}

/**
 * Reads the `--data` file as JSON; a missing, unreadable or malformed file is AirlockError
 * ("config_invalid") saying which and what to do. Its content is checked when the emulator starts.
 *
 * @example
 * const data = readDataFile("seed.json"); // then startEmulator({ data })
 */
export function readDataFile(path: string): unknown {
  return readJsonFile(path, "--data", "seed data file", SEED_FORMAT);
}

const integrationsFileSchema = z.array(
  z.strictObject({
    clientId: z.string(),
    clientSecret: z.string().optional(),
    redirectUris: z.array(z.string()).optional(),
    scopes: z.array(z.string()).optional(),
    name: z.string().optional(),
  }),
);

/**
 * Reads the `--integrations` file: a JSON array of integrations with camelCase keys (the
 * `integrations` option of startEmulator). A missing, malformed or wrongly shaped file is
 * AirlockError("config_invalid") naming the file and the entry; the values (redirect URIs, scopes,
 * unique client ids) are checked when the emulator starts.
 *
 * @example
 * const integrations = readIntegrationsFile("integrations.json"); // then startEmulator({ integrations })
 */
export function readIntegrationsFile(path: string): EmulatorIntegrationOptions[] {
  const raw = readJsonFile(path, "--integrations", "integrations file", INTEGRATIONS_FORMAT);
  const parsed = integrationsFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // An unknown key (snake_case, a typo) explains a "missing clientId" best: report it first.
  const { issues } = parsed.error;
  const issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0]!;
  const where =
    issue.path.length > 0 ? `[${issue.path.join("].[")}]`.replace(/\.\[([A-Za-z]\w*)\]/g, ".$1") : "file";
  throw new AirlockError(
    "config_invalid",
    `the integrations file ${resolve(path)}: ${where}: ${issue.message}.`,
    {
      hint: `Give a JSON array of objects with camelCase keys clientId (required), clientSecret, redirectUris, scopes, name, e.g. ${INTEGRATIONS_FORMAT}`,
    },
  );
}

function parseScopes(raw: string): string[] {
  const scopes = raw.split(/[\s,]+/).filter(Boolean);
  if (scopes.length === 0)
    throw usageError(
      "emulator",
      `--scopes needs at least one scope, e.g. "${BASIC_SCOPES.slice(0, 2).join(" ")}".`,
    );
  return scopes;
}

function processIo(): EmulatorCommandIo {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Resolves when SIGINT/SIGTERM arrives (or `signal` aborts), removing its listeners afterwards. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    return signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * `airlock emulator …`: starts the emulator, prints its URL, runs until SIGINT/SIGTERM, exits 0.
 */
export async function emulatorCommand(argv: string[], io: EmulatorCommandIo = processIo()): Promise<number> {
  let args: EmulatorArgs | "help";
  try {
    args = parseEmulatorArgs(argv);
  } catch (err) {
    return report(io, err, ExitCode.usage);
  }
  if (args === "help") {
    io.stdout(EMULATOR_HELP);
    return ExitCode.ok;
  }
  const { dataFile, integrationsFile, ...options } = args;
  let emulator: RunningEmulator;
  try {
    if (dataFile !== undefined) options.data = readDataFile(dataFile);
    if (integrationsFile !== undefined) options.integrations = readIntegrationsFile(integrationsFile);
    emulator = await startEmulator(options);
  } catch (err) {
    // Whatever startEmulator refuses (a redirect URI, a scope, a busy port, a damaged state file)
    // is configuration.
    return report(io, listenError(err, options), ExitCode.config);
  }
  const stopped = untilStopped(io.signal);
  printSummary(io, emulator, options, dataFile);
  await stopped;
  try {
    await emulator.close();
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    return report(io, err, ExitCode.error);
  }
  return ExitCode.ok;
}

/** A port that cannot be bound is a configuration problem with an obvious fix. */
function listenError(err: unknown, options: EmulatorOptions): unknown {
  const code = errorCode(err);
  if (code !== "EADDRINUSE" && code !== "EACCES" && code !== "EADDRNOTAVAIL") return err;
  return new AirlockError(
    "config_invalid",
    `cannot listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 0} (${code}).`,
    { hint: "Pick another --port, or --port 0 for a random free one." },
  );
}

function report(io: EmulatorCommandIo, err: unknown, exitCode: number): number {
  if (!isAirlockError(err)) {
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.error;
  }
  io.stderr(`error: ${err.message}`);
  if (err.hint) io.stderr(`  ${err.hint}`);
  return exitCode;
}

function printSummary(
  io: EmulatorCommandIo,
  emulator: RunningEmulator,
  options: EmulatorOptions,
  dataFile: string | undefined,
): void {
  io.stdout(`Airtable emulator listening on ${emulator.url}`);
  io.stderr(
    `  client id:     ${options.clientId ?? "airlock-emulator-client"} (${options.clientSecret ? "confidential: Basic auth required" : "public: no client secret"})`,
  );
  io.stderr(`  redirect URIs: ${(options.redirectUris ?? ["http://localhost:8085/callback"]).join(" ")}`);
  io.stderr(`  scopes:        ${(options.scopes ?? BASIC_SCOPES).join(" ")}`);
  for (const integration of options.integrations ?? [])
    io.stderr(`  also hosts:    ${describeIntegration(integration)}`);
  io.stderr(
    `  consent:       ${options.autoApprove ? "auto-approve" : `consent page at ${emulator.url}/oauth2/v1/authorize`}`,
  );
  io.stderr(`  data:          ${dataFile ? `seed data from ${resolve(dataFile)}` : "the built-in sample"}`);
  io.stderr(
    `  control API:   ${emulator.url}/__emulator/stats (clock, faults, scopes, grants, revoke, records, reset)`,
  );
  io.stderr(
    `  state:         ${options.stateFile ? `kept in ${resolve(options.stateFile)}` : "memory only"}`,
  );
}

/** One more integration, for the summary (never its secret). */
function describeIntegration(integration: EmulatorIntegrationOptions): string {
  const kind = integration.clientSecret ? "confidential" : "public";
  const uris = (integration.redirectUris ?? ["http://localhost:8085/callback"]).join(" ");
  const scopes = integration.scopes ? integration.scopes.join(" ") : "all basic scopes";
  return `${integration.clientId} "${integration.name ?? integration.clientId}" (${kind}); redirect URIs ${uris}; scopes ${scopes}`;
}

/**
 * `airlock emulator`: flag parsing (through cli/args.ts, like every command), the startup summary,
 * and running until SIGINT/SIGTERM. The emulator itself is `startEmulator` (src/emulator/index.ts).
 */
import { resolve } from "node:path";
import type { EmulatorOptions } from "../../emulator/config.js";
import { type RunningEmulator, startEmulator } from "../../emulator/index.js";
import { BASIC_SCOPES } from "../../emulator/scopes.js";
import { AirlockError, errorCode, isAirlockError } from "../../shared/errors.js";
import { parseCommandArgs, parseIntegerFlag, usageError } from "../args.js";
import { ExitCode } from "../exit-codes.js";

export const EMULATOR_HELP = `Usage: airlock emulator [flags]

A faithful offline Airtable: OAuth server (/oauth2/v1/authorize, /oauth2/v1/token), the Web API
subset an OAuth app uses (/v0/meta/whoami, /v0/meta/bases, /v0/meta/bases/:id/tables, /v0/:base/:table)
and a control API for tests (/__emulator/stats, /__emulator/clock, /__emulator/faults, /__emulator/scopes, /__emulator/revoke,
/__emulator/reset). Prints "Airtable emulator listening on URL" on stdout once ready.

Flags:
  --port N                 port to listen on (default 0 = a random free port)
  --host H                 interface to bind (default 127.0.0.1)
  --client-id ID           the integration's client id (default airlock-emulator-client)
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
  -h, --help               show this help

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
  help: { type: "boolean", short: "h" },
} as const;

/** Whole-number flags: [flag, option, smallest value]. TTLs of 0 would mint dead tokens. */
const NUMBER_FLAGS = [
  ["access-token-ttl", "accessTokenTtl", 1],
  ["refresh-token-ttl", "refreshTokenTtl", 1],
  ["latency-ms", "latencyMs", 0],
  ["api-latency-ms", "apiLatencyMs", 0],
] as const;

/**
 * Parses `airlock emulator` flags into EmulatorOptions; throws an `invalid_input` AirlockError
 * naming the bad flag.
 */
export function parseEmulatorArgs(argv: string[]): EmulatorOptions | "help" {
  const { values } = parseCommandArgs("emulator", argv, FLAGS, 0);
  if (values.help) return "help";
  const options: EmulatorOptions = {};
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
  for (const [flag, key, min] of NUMBER_FLAGS) {
    const raw = values[flag];
    if (raw !== undefined) options[key] = parseIntegerFlag("emulator", `--${flag}`, raw, min, 2 ** 31);
  }
  return options;
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
  let options: EmulatorOptions | "help";
  try {
    options = parseEmulatorArgs(argv);
  } catch (err) {
    return report(io, err, ExitCode.usage);
  }
  if (options === "help") {
    io.stdout(EMULATOR_HELP);
    return ExitCode.ok;
  }
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator(options);
  } catch (err) {
    // Whatever startEmulator refuses (a redirect URI, a scope, a busy port, a damaged state file)
    // is configuration.
    return report(io, listenError(err, options), ExitCode.config);
  }
  const stopped = untilStopped(io.signal);
  printSummary(io, emulator, options);
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

function printSummary(io: EmulatorCommandIo, emulator: RunningEmulator, options: EmulatorOptions): void {
  io.stdout(`Airtable emulator listening on ${emulator.url}`);
  io.stderr(
    `  client id:     ${options.clientId ?? "airlock-emulator-client"} (${options.clientSecret ? "confidential: Basic auth required" : "public: no client secret"})`,
  );
  io.stderr(`  redirect URIs: ${(options.redirectUris ?? ["http://localhost:8085/callback"]).join(" ")}`);
  io.stderr(`  scopes:        ${(options.scopes ?? BASIC_SCOPES).join(" ")}`);
  io.stderr(
    `  consent:       ${options.autoApprove ? "auto-approve" : `consent page at ${emulator.url}/oauth2/v1/authorize`}`,
  );
  io.stderr(`  control API:   ${emulator.url}/__emulator/stats (clock, faults, scopes, revoke, reset)`);
  io.stderr(
    `  state:         ${options.stateFile ? `kept in ${resolve(options.stateFile)}` : "memory only"}`,
  );
}

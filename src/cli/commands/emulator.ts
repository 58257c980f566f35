import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isAirlockError } from "../shared/errors.js";
import type { EmulatorOptions } from "./config.js";
import { type RunningEmulator, startEmulator } from "./index.js";
import { BASIC_SCOPES } from "./scopes.js";

/** Exit codes, matching `airlock --help`: 0 ok, 1 error, 2 bad command line, 5 configuration. */
const EXIT = { ok: 0, error: 1, usage: 2, config: 5 } as const;

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

class UsageError extends Error {}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value))
    throw new UsageError(`--${flag} needs a whole number, got ${JSON.stringify(value)}.`);
  return Number(value);
}

/**
 * Parses `airlock emulator` flags into EmulatorOptions; throws UsageError naming the bad flag.
 *
 * @example
 * parseEmulatorArgs(["--port", "0", "--auto-approve"]); // { port: 0, autoApprove: true }
 */
export function parseEmulatorArgs(argv: string[]): EmulatorOptions | "help" {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(positionals[0])}.`);
  const options: EmulatorOptions = {};
  const port = wholeNumber("port", values.port);
  if (port !== undefined) {
    if (port > 65535) throw new UsageError(`--port must be from 0 to 65535, got ${port}.`);
    options.port = port;
  }
  if (values.host !== undefined) options.host = values.host;
  if (values["client-id"] !== undefined) options.clientId = values["client-id"];
  if (values["client-secret"] !== undefined) options.clientSecret = values["client-secret"];
  if (values["redirect-uri"] !== undefined) options.redirectUris = values["redirect-uri"];
  if (values.scopes !== undefined) {
    const scopes = values.scopes.split(/[\s,]+/).filter(Boolean);
    if (scopes.length === 0)
      throw new UsageError(
        `--scopes needs at least one scope, e.g. "${BASIC_SCOPES.slice(0, 2).join(" ")}".`,
      );
    options.scopes = scopes;
  }
  if (values["auto-approve"]) options.autoApprove = true;
  if (values["state-file"] !== undefined) {
    if (values["state-file"] === "") throw new UsageError("--state-file needs a file path.");
    options.stateFile = values["state-file"];
  }
  const ttls = [
    ["access-token-ttl", "accessTokenTtl"],
    ["refresh-token-ttl", "refreshTokenTtl"],
    ["latency-ms", "latencyMs"],
    ["api-latency-ms", "apiLatencyMs"],
  ] as const;
  for (const [flag, key] of ttls) {
    const n = wholeNumber(flag, values[flag]);
    if (n !== undefined) {
      if (flag.endsWith("ttl") && n === 0) throw new UsageError(`--${flag} must be at least 1 second.`);
      options[key] = n;
    }
  }
  return options;
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
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
    },
  });
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
 *
 * @example
 * // in the CLI dispatcher
 * process.exitCode = await emulatorCommand(process.argv.slice(3));
 */
export async function emulatorCommand(argv: string[], io: EmulatorCommandIo = processIo()): Promise<number> {
  let options: EmulatorOptions | "help";
  try {
    options = parseEmulatorArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`error: ${err.message}`);
    io.stderr("  Run `airlock emulator --help` for the flags.");
    return EXIT.usage;
  }
  if (options === "help") {
    io.stdout(EMULATOR_HELP);
    return EXIT.ok;
  }
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator(options);
  } catch (err) {
    if (isAirlockError(err)) {
      io.stderr(`error: ${err.message}`);
      if (err.hint) io.stderr(`  ${err.hint}`);
      return EXIT.config;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      io.stderr(`error: cannot listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 0} (${code}).`);
      io.stderr("  Pick another --port, or --port 0 for a random free one.");
      return EXIT.config;
    }
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.error;
  }
  const stopped = untilStopped(io.signal);
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
  await stopped;
  try {
    await emulator.close();
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    io.stderr(`error: ${err.message}`);
    if (err.hint) io.stderr(`  ${err.hint}`);
    return EXIT.error;
  }
  return EXIT.ok;
}

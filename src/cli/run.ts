/**
 * The `airlock` command dispatcher. Each subcommand lives in its own module and is loaded with a dynamic
 * `import()` only when asked for, so `airlock token` never loads the service, and `airlock serve`
 * never loads the login code.
 */
import { readFileSync } from "node:fs";
import { closestName } from "../airtable/did-you-mean.js";
import { AirlockError } from "../shared/errors.js";
import type { Command, CommandContext } from "./context.js";
import { EXIT_CODE_HELP, ExitCode, exitCodeFor } from "./exit-codes.js";
import type { Output } from "./output.js";

/** Commands that take over the process (their own flags, signals and lifetime). */
const DELEGATED: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  emulator: async () => (await import("./commands/emulator.js")).emulatorCommand,
  serve: async () => (await import("./commands/serve.js")).serveCommand,
  "rotate-keys": async () => (await import("./commands/serve.js")).rotateKeysCommand,
};

/** Built-in commands: they get a CommandContext and report errors through `reportError`. */
const BUILT_IN: Record<string, () => Promise<Command>> = {
  login: async () => (await import("./commands/login.js")).loginCommand,
  token: async () => (await import("./commands/token.js")).tokenCommand,
  status: async () => (await import("./commands/status.js")).statusCommand,
  whoami: async () => (await import("./commands/api.js")).whoamiCommand,
  bases: async () => (await import("./commands/api.js")).basesCommand,
  tables: async () => (await import("./commands/api.js")).tablesCommand,
  logout: async () => (await import("./commands/logout.js")).logoutCommand,
  doctor: async () => (await import("./commands/doctor.js")).doctorCommand,
  keys: async () => (await import("./commands/keys.js")).keysCommand,
};

export const MAIN_HELP = `airlock: Airtable OAuth 2.0 (authorization code + PKCE) for scripts and services

Usage: airlock <command> [flags]

Get a token for scripts:
  login [--profile P] [--scopes "…"] [--no-browser] [--paste] [--port N] [--timeout S] [--force]
                       authorize in the browser once; stores credentials for the profile
  token                print a valid access token (refreshing first when needed), nothing else
                       e.g. curl -H "Authorization: Bearer $(airlock token)" https://api.airtable.com/v0/meta/whoami
  status [--json]      who is logged in, scopes, when tokens expire, where the file is
  whoami               the Airtable user behind the token
  bases                the bases the token can reach
  tables BASE_ID       the tables (and fields) of one base
  logout               delete the stored credentials of the profile
  doctor               check the AIRTABLE_* configuration and that Airtable is reachable

Run the service and the emulator:
  serve                the Airlock HTTP service (connect links, token API, proxy, dashboard)
  rotate-keys          re-encrypt stored tokens under the first AIRLOCK_ENCRYPTION_KEYS key
  keys create --name N --scope admin|connect|proxy · keys list · keys revoke ID
                       named API keys of a running service ([--url URL] [--key ADMIN_KEY])
  emulator             an offline Airtable (OAuth server + Web API) for tests

  help, --help, -h     this text; \`airlock <command> --help\` for a command's flags
  --version, -v        the version

Every command that stores or reads credentials takes --profile P (default "default").

Environment:
  AIRTABLE_CLIENT_ID       the integration's client id (required for login and refresh)
  AIRTABLE_CLIENT_SECRET   the client secret, only if you generated one (then HTTP Basic is used)
  AIRTABLE_REDIRECT_URI    default http://localhost:8085/callback; register exactly this URI
  AIRTABLE_SCOPES          space-separated scopes (default: data.records:read schema.bases:read user.email:read)
  AIRTABLE_OAUTH_URL       default https://airtable.com
  AIRTABLE_API_URL         default https://api.airtable.com
  AIRLOCK_HOME             credentials folder (default: your platform's config folder + /airlock)

${EXIT_CODE_HELP}
`;

/**
 * Runs one `airlock` invocation and resolves to its exit code; never throws.
 */
export async function runCli(argv: string[], context: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  const { output } = context;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    // `airlock help login` is the same as `airlock login --help`.
    if (name === "help" && rest[0] !== undefined && Object.hasOwn(BUILT_IN, rest[0])) {
      return runCli([rest[0], "--help"], context);
    }
    (name === undefined ? output.err : output.out)(MAIN_HELP);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    output.out(readVersion());
    return ExitCode.ok;
  }
  try {
    const delegated = Object.hasOwn(DELEGATED, name) ? DELEGATED[name] : undefined;
    if (delegated) return await (await delegated())(rest);
    const builtIn = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
    if (!builtIn) {
      const meant = closestName(name, [
        ...Object.keys(BUILT_IN),
        ...Object.keys(DELEGATED),
        "help",
        "version",
      ]);
      throw new AirlockError(
        "invalid_input",
        `Unknown command "${name}".${meant ? ` Did you mean \`airlock ${meant}\`?` : ""}`,
        { hint: "Run `airlock --help` to see the commands." },
      );
    }
    return await (await builtIn())(rest, context);
  } catch (error) {
    return reportError(output, error);
  }
}

/**
 * Prints an error as "error: message" plus its hint on stderr; returns the exit code for it.
 */
export function reportError(output: Output, error: unknown): number {
  if (error instanceof AirlockError) {
    output.err(`error: ${error.message}`);
    if (error.hint) output.err(`  ${error.hint}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    output.err(`error: ${message}`);
    output.err("  This looks like a bug in airlock; please report it with the command you ran.");
  }
  return exitCodeFor(error);
}

function readVersion(): string {
  try {
    const raw = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(raw) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Whether a command runs the process itself (serve, emulator, rotate-keys): those install their own
 * signal handlers.
 */
export function isDelegatedCommand(name: string | undefined): boolean {
  return name !== undefined && Object.hasOwn(DELEGATED, name);
}

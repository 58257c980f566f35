/**
 * `airlock doctor`: every configuration rule Airtable enforces, whether its two URLs answer like
 * Airtable, whether the login's callback port is free, and the state of the stored credentials.
 */
import { stat } from "node:fs/promises";
import {
  checkClientRegistration,
  checkReachability,
  type DoctorCheck,
  doctorChecks,
  readAirtableConfig,
} from "../../airtable/config.js";
import { DEFAULT_API_URL, DEFAULT_OAUTH_URL } from "../../airtable/endpoints.js";
import { isAirlockError } from "../../shared/errors.js";
import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../context.js";
import { type StoredCredentials, validateProfileName } from "../credentials-file.js";
import { DEFAULT_CLI_REDIRECT_URI } from "../defaults.js";
import { ExitCode } from "../exit-codes.js";
import { callbackVerdict, startCallbackServer } from "../loopback.js";
import { countOf } from "../output.js";
import { credentialStore, profileCommand } from "../session.js";
import { formatRelative } from "../time.js";

export const DOCTOR_HELP = `Usage: airlock doctor [--profile P] [--offline]

Checks the AIRTABLE_* settings against Airtable's rules (client id, redirect URI, scopes, the
OAuth and API URLs, secret or no secret), that the token endpoint and the Web API answer, that
Airtable knows the client id (and accepts the secret): one authorization_code request with a dummy
code and verifier, which Airtable answers invalid_client for an unknown client and invalid_grant
for a known one; the code matches nothing, so nothing real is touched. Then that the login can
listen on the redirect URI's port, and the profile's stored credentials. One line per check:
  ✓ fine   ! worth a look   ✗ must be fixed (with what to do)
Exits 1 when any check fails.

Flags:
  --profile P   credentials profile to check (default "default")
  --offline     skip the network checks (reachability and the client id probe)
`;

const FLAGS = {
  profile: { type: "string" },
  offline: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const MARK = { ok: "✓", warn: "!", error: "✗" } as const;

/**
 * Runs `airlock doctor`.
 */
export async function doctorCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("doctor", argv, FLAGS, 0);
  const { output, env } = context;
  if (values.help) {
    output.out(DOCTOR_HELP);
    return ExitCode.ok;
  }
  const profile = validateProfileName(values.profile ?? "default");
  const checks = doctorChecks(env);
  // Only a complete, valid configuration is shown to the token endpoint.
  const configValid = !checks.some((c) => c.level === "error");
  const failed = (...names: string[]) => checks.some((c) => names.includes(c.name) && c.level === "error");
  if (!failed("redirect_uri")) {
    checks.push(...(await callbackChecks(env.AIRTABLE_REDIRECT_URI?.trim() || DEFAULT_CLI_REDIRECT_URI)));
  }
  if (!values.offline && !failed("oauth_url", "api_url")) {
    const reachable = await checkReachability({
      oauthUrl: env.AIRTABLE_OAUTH_URL?.trim() || DEFAULT_OAUTH_URL,
      apiUrl: env.AIRTABLE_API_URL?.trim() || DEFAULT_API_URL,
    });
    checks.push(...reachable);
    if (configValid && reachable.find((c) => c.name === "oauth_reachable")?.level === "ok") {
      checks.push(await checkClientRegistration(readAirtableConfig(env)));
    }
  }
  checks.push(...(await credentialChecks(context, profile)));

  for (const check of checks) {
    output.out(`${MARK[check.level]} ${check.message}`);
    if (check.fix) output.out(`    → ${check.fix}`);
  }
  const errors = checks.filter((c) => c.level === "error").length;
  const warnings = checks.filter((c) => c.level === "warn").length;
  output.err(
    errors > 0
      ? `${countOf(errors, "problem")} to fix${warnings ? `, ${countOf(warnings, "warning")}` : ""}.`
      : `All checks passed${warnings ? ` (${countOf(warnings, "warning")})` : ""}.`,
  );
  return errors > 0 ? ExitCode.error : ExitCode.ok;
}

/**
 * What `airlock login` will make of the redirect URI (the same verdict it acts on), and whether it
 * can listen there right now: the callback server itself is started and stopped, so a busy port and
 * a port this user may not open get login's own, different, messages.
 */
async function callbackChecks(redirectUri: string): Promise<DoctorCheck[]> {
  const verdict = callbackVerdict(redirectUri);
  if (!verdict.receivable) {
    return [
      {
        name: "callback_port",
        ok: verdict.level !== "error",
        level: verdict.level,
        message: verdict.message,
        fix: verdict.fix,
      },
    ];
  }
  const checks: DoctorCheck[] = [];
  if (verdict.note) {
    checks.push({ name: "callback_uri", ok: true, level: "warn", ...verdict.note });
  }
  try {
    const server = await startCallbackServer({ port: verdict.port, path: verdict.path, redirectUri });
    await server.close();
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    const failure: DoctorCheck = {
      name: "callback_port",
      ok: false,
      level: "error",
      message: error.message,
      fix: error.hint,
    };
    // A permission error's fix already carries the note about the port.
    return error.details?.reason === "EACCES" ? [failure] : [...checks, failure];
  }
  checks.push({
    name: "callback_port",
    ok: true,
    level: "ok",
    message: `Port ${verdict.port} on 127.0.0.1 is free for the login callback.`,
    fix: "",
  });
  return checks;
}

async function credentialChecks(context: CommandContext, profile: string): Promise<DoctorCheck[]> {
  const store = credentialStore(context.env, context.output);
  const path = store.path(profile);
  let credentials: StoredCredentials | null;
  try {
    credentials = await store.read(profile);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    return [{ name: "credentials", ok: false, level: "error", message: error.message, fix: error.hint }];
  }
  if (!credentials) {
    const message = `Not logged in (profile "${profile}"; no ${path}).`;
    return [
      {
        name: "credentials",
        ok: true,
        level: "warn",
        message,
        fix: `Run \`${profileCommand("login", profile)}\`.`,
      },
    ];
  }
  return [
    loginCheck(credentials, profile),
    ...integrationChecks(credentials, profile, context.env),
    ...(await fileModeChecks(path)),
  ];
}

/** Whether the stored login can still refresh. */
function loginCheck(credentials: StoredCredentials, profile: string): DoctorCheck {
  const who = credentials.email ?? credentials.userId ?? "unknown user";
  const fix = `Run \`${profileCommand("login", profile)}\`.`;
  const dead = (message: string): DoctorCheck => ({
    name: "credentials",
    ok: false,
    level: "error",
    message,
    fix,
  });
  if (credentials.reauthReason)
    return dead(`Profile "${profile}" (${who}) needs a new login: ${credentials.reauthReason}.`);
  if (Date.parse(credentials.refreshTokenExpiresAt) <= Date.now()) {
    return dead(`Profile "${profile}" (${who}): the refresh token expired (unused for 60 days).`);
  }
  return {
    name: "credentials",
    ok: true,
    level: "ok",
    message: `Logged in as ${who} (profile "${profile}"); refresh token expires ${formatRelative(new Date(credentials.refreshTokenExpiresAt))}.`,
    fix: "",
  };
}

/** Whether the environment still matches the integration the login was made with. */
function integrationChecks(
  credentials: StoredCredentials,
  profile: string,
  env: CommandContext["env"],
): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const envClientId = env.AIRTABLE_CLIENT_ID?.trim();
  if (envClientId && envClientId !== credentials.clientId) {
    checks.push({
      name: "credentials_client",
      ok: true,
      level: "warn",
      message: `Profile "${profile}" was logged in with a different client id than AIRTABLE_CLIENT_ID; refreshes use the stored one.`,
      fix: `Run \`${profileCommand("login", profile)} --force\` to log in with the current integration.`,
    });
  }
  if (credentials.usesClientSecret && !env.AIRTABLE_CLIENT_SECRET?.trim()) {
    checks.push({
      name: "credentials_secret",
      ok: false,
      level: "error",
      message: `Profile "${profile}" was logged in with a client secret, but AIRTABLE_CLIENT_SECRET is not set: refreshes will fail.`,
      fix: "Set AIRTABLE_CLIENT_SECRET (airlock does not store the secret).",
    });
  }
  return checks;
}

async function fileModeChecks(path: string): Promise<DoctorCheck[]> {
  if (process.platform === "win32") return [];
  const mode = (await stat(path)).mode & 0o777;
  if (!(mode & 0o077)) return [];
  return [
    {
      name: "credentials_mode",
      ok: true,
      level: "warn",
      message: `${path} is readable by other users (mode ${mode.toString(8)}).`,
      fix: `Run \`chmod 600 ${path}\`.`,
    },
  ];
}

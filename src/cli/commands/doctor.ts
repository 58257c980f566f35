/**
 * `airlock doctor`: every configuration rule Airtable enforces, whether its two URLs answer like
 * Airtable, whether the login's callback port is free, and the state of the stored credentials.
 */
import { stat } from "node:fs/promises";
import { createServer } from "node:net";
import { checkReachability, type DoctorCheck, doctorChecks } from "../../airtable/config.js";
import { DEFAULT_API_URL, DEFAULT_OAUTH_URL } from "../../airtable/endpoints.js";
import { DEFAULT_SCOPES } from "../../airtable/scopes.js";
import { isAirlockError } from "../../errors.js";
import { validateProfileName } from "../../store/file.js";
import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../context.js";
import { DEFAULT_CLI_REDIRECT_URI } from "../defaults.js";
import { ExitCode } from "../exit-codes.js";
import { credentialStore } from "../session.js";
import { formatRelative } from "../time.js";

export const DOCTOR_HELP = `Usage: airlock doctor [--profile P] [--offline]

Checks the AIRTABLE_* settings against Airtable's rules (client id, redirect URI, scopes, the
OAuth and API URLs, secret or no secret), that the token endpoint and the Web API answer, that the
login's callback port is free, and the profile's stored credentials. One line per check:
  ✓ fine   ! worth a look   ✗ must be fixed (with what to do)
Exits 1 when any check fails.

Flags:
  --profile P   credentials profile to check (default "default")
  --offline     skip the network checks
`;

const FLAGS = {
  profile: { type: "string" },
  offline: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const MARK = { ok: "✓", warn: "!", error: "✗" } as const;

/**
 * Runs `airlock doctor`.
 *
 * @example
 * const code = await doctorCommand([], context); // 0 when nothing is wrong
 */
export async function doctorCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("doctor", argv, FLAGS, 0);
  const { output, env } = context;
  if (values.help) {
    output.out(DOCTOR_HELP);
    return ExitCode.ok;
  }
  const profile = validateProfileName(values.profile ?? "default");
  const checks = doctorChecks(env, { redirectUri: DEFAULT_CLI_REDIRECT_URI, scopes: [...DEFAULT_SCOPES] });
  const redirectUri = env.AIRTABLE_REDIRECT_URI?.trim() || DEFAULT_CLI_REDIRECT_URI;
  if (!checks.some((c) => c.name === "redirect_uri" && c.level === "error")) {
    checks.push(await callbackPortCheck(redirectUri));
  }
  if (!values.offline) {
    const urlsOk = !checks.some(
      (c) => (c.name === "oauth_url" || c.name === "api_url") && c.level === "error",
    );
    if (urlsOk) {
      checks.push(
        ...(await checkReachability({
          oauthUrl: env.AIRTABLE_OAUTH_URL?.trim() || DEFAULT_OAUTH_URL,
          apiUrl: env.AIRTABLE_API_URL?.trim() || DEFAULT_API_URL,
        })),
      );
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
      ? `${errors} problem${errors === 1 ? "" : "s"} to fix${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}.`
      : `All checks passed${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}.`,
  );
  return errors > 0 ? ExitCode.error : ExitCode.ok;
}

/** `airlock login` must be able to listen on the redirect URI's port. */
async function callbackPortCheck(redirectUri: string): Promise<DoctorCheck> {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return { name: "callback_port", ok: true, level: "ok", message: "Callback port not checked.", fix: "" };
  }
  if (url.protocol !== "http:" || !(url.hostname === "localhost" || url.hostname === "127.0.0.1")) {
    return {
      name: "callback_port",
      ok: true,
      level: "warn",
      message: `The redirect URI ${redirectUri} is not http://localhost: \`airlock login\` cannot receive the redirect itself.`,
      fix: `Use \`airlock login --paste\`, or register ${DEFAULT_CLI_REDIRECT_URI} and set AIRTABLE_REDIRECT_URI to it.`,
    };
  }
  const port = Number(url.port || 80);
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  return free
    ? {
        name: "callback_port",
        ok: true,
        level: "ok",
        message: `Port ${port} on 127.0.0.1 is free for the login callback.`,
        fix: "",
      }
    : {
        name: "callback_port",
        ok: false,
        level: "error",
        message: `Port ${port} on 127.0.0.1 is in use: \`airlock login\` cannot receive the redirect to ${redirectUri}.`,
        fix: `Stop the program using port ${port}, or register another http://localhost:N/callback and use \`airlock login --port N\` (or set AIRTABLE_REDIRECT_URI).`,
      };
}

async function credentialChecks(context: CommandContext, profile: string): Promise<DoctorCheck[]> {
  const store = credentialStore(context.env, context.output);
  const path = store.path(profile);
  const login = profile === "default" ? "airlock login" : `airlock login --profile ${profile}`;
  let credentials: Awaited<ReturnType<typeof store.read>>;
  try {
    credentials = await store.read(profile);
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    return [{ name: "credentials", ok: false, level: "error", message: error.message, fix: error.hint }];
  }
  if (!credentials) {
    return [
      {
        name: "credentials",
        ok: true,
        level: "warn",
        message: `Not logged in (profile "${profile}"; no ${path}).`,
        fix: `Run \`${login}\`.`,
      },
    ];
  }
  const checks: DoctorCheck[] = [];
  const who = credentials.email ?? credentials.userId ?? "unknown user";
  if (credentials.reauthReason) {
    checks.push({
      name: "credentials",
      ok: false,
      level: "error",
      message: `Profile "${profile}" (${who}) needs a new login: ${credentials.reauthReason}.`,
      fix: `Run \`${login}\`.`,
    });
  } else if (Date.parse(credentials.refreshTokenExpiresAt) <= Date.now()) {
    checks.push({
      name: "credentials",
      ok: false,
      level: "error",
      message: `Profile "${profile}" (${who}): the refresh token expired (unused for 60 days).`,
      fix: `Run \`${login}\`.`,
    });
  } else {
    checks.push({
      name: "credentials",
      ok: true,
      level: "ok",
      message: `Logged in as ${who} (profile "${profile}"); refresh token expires ${formatRelative(new Date(credentials.refreshTokenExpiresAt))}.`,
      fix: "",
    });
  }
  const envClientId = context.env.AIRTABLE_CLIENT_ID?.trim();
  if (envClientId && envClientId !== credentials.clientId) {
    checks.push({
      name: "credentials_client",
      ok: true,
      level: "warn",
      message: `Profile "${profile}" was logged in with a different client id than AIRTABLE_CLIENT_ID; refreshes use the stored one.`,
      fix: `Run \`${login} --force\` to log in with the current integration.`,
    });
  }
  if (credentials.usesClientSecret && !context.env.AIRTABLE_CLIENT_SECRET?.trim()) {
    checks.push({
      name: "credentials_secret",
      ok: false,
      level: "error",
      message: `Profile "${profile}" was logged in with a client secret, but AIRTABLE_CLIENT_SECRET is not set: refreshes will fail.`,
      fix: "Set AIRTABLE_CLIENT_SECRET (airlock does not store the secret).",
    });
  }
  if (process.platform !== "win32") {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) {
      checks.push({
        name: "credentials_mode",
        ok: true,
        level: "warn",
        message: `${path} is readable by other users (mode ${mode.toString(8)}).`,
        fix: `Run \`chmod 600 ${path}\`.`,
      });
    }
  }
  return checks;
}

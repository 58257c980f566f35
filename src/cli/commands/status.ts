/** `airlock status`: what is stored for a profile, never the tokens themselves. */

import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../context.js";
import { validateProfileName } from "../credentials-file.js";
import { ExitCode } from "../exit-codes.js";
import { credentialStore, isAccessTokenFresh } from "../session.js";
import { formatRelative } from "../time.js";

export const STATUS_HELP = `Usage: airlock status [--profile P] [--json]

Shows the profile's Airtable user, email, scopes, when the access and refresh tokens expire (or
that they are no longer usable), and where the credentials file is. Never prints a token. Exit
code 3 when not logged in or when Airtable needs you to log in again.

Flags:
  --profile P   credentials profile (default "default")
  --json        machine-readable output
`;

const FLAGS = {
  profile: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Runs `airlock status`.
 */
export async function statusCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("status", argv, FLAGS, 0);
  const { output } = context;
  if (values.help) {
    output.out(STATUS_HELP);
    return ExitCode.ok;
  }
  const profile = validateProfileName(values.profile ?? "default");
  const store = credentialStore(context.env, context.output);
  const path = store.path(profile);
  const credentials = await store.read(profile);
  if (!credentials) {
    if (values.json) output.out(JSON.stringify({ profile, logged_in: false, path }, null, 2));
    else {
      output.out(`Not logged in (profile "${profile}").`);
      output.err(`Run \`airlock login${profile === "default" ? "" : ` --profile ${profile}`}\`.`);
    }
    return ExitCode.reauth;
  }
  const now = new Date();
  const login = `airlock login${profile === "default" ? "" : ` --profile ${profile}`}`;
  const accessExpires = new Date(credentials.accessTokenExpiresAt);
  const refreshExpires = new Date(credentials.refreshTokenExpiresAt);
  const state: State = credentials.reauthReason
    ? "reauth_required"
    : refreshExpires <= now
      ? "expired"
      : isAccessTokenFresh(credentials, now)
        ? "active"
        : "refresh_due";
  if (values.json) {
    output.out(
      JSON.stringify(
        {
          profile,
          logged_in: true,
          status: state,
          reauth_reason: credentials.reauthReason,
          tokens_usable: state === "active" || state === "refresh_due",
          user_id: credentials.userId,
          email: credentials.email,
          scopes: credentials.scopes,
          client_id: credentials.clientId,
          uses_client_secret: credentials.usesClientSecret,
          redirect_uri: credentials.redirectUri,
          oauth_url: credentials.oauthUrl,
          api_url: credentials.apiUrl,
          access_token_expires_at: credentials.accessTokenExpiresAt,
          refresh_token_expires_at: credentials.refreshTokenExpiresAt,
          last_refreshed_at: credentials.obtainedAt,
          path,
        },
        null,
        2,
      ),
    );
  } else {
    const rows: [string, string][] = [
      ["Profile", profile],
      ["Status", describeState(state, credentials.reauthReason, login)],
      ["User", credentials.userId ?? "(unknown)"],
      ["Email", credentials.email ?? "(not shared: needs the user.email:read scope)"],
      ["Scopes", credentials.scopes.join(" ")],
      ...tokenRows(state, credentials.reauthReason, login, { accessExpires, refreshExpires, now }),
      ["Client id", `${credentials.clientId}${credentials.usesClientSecret ? " (with client secret)" : ""}`],
      ["File", path],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) output.out(`${`${label}:`.padEnd(width + 2)}${value}`);
  }
  return state === "reauth_required" || state === "expired" ? ExitCode.reauth : ExitCode.ok;
}

type State = "active" | "refresh_due" | "expired" | "reauth_required";

function describeState(state: State, reason: string | null, login: string): string {
  switch (state) {
    case "active":
      return "logged in";
    case "refresh_due":
      return "logged in (the next `airlock token` refreshes the access token)";
    case "expired":
      return `refresh token expired: run \`${login}\` again`;
    case "reauth_required":
      return `Airtable needs you to log in again (${reason}): run \`${login}\``;
  }
}

/** The token lines: expiries while the tokens work; once Airtable refused them, that they are dead. */
function tokenRows(
  state: State,
  reason: string | null,
  login: string,
  at: { accessExpires: Date; refreshExpires: Date; now: Date },
): [string, string][] {
  const expires = (date: Date) => `expires ${formatRelative(date, at.now)} (${date.toISOString()})`;
  if (state === "reauth_required") {
    return [
      [
        "Access token",
        `not usable: Airtable rejected the refresh token (${reason}), so the stored tokens are dead`,
      ],
      ["Refresh token", `not usable: run \`${login}\` to get new tokens`],
    ];
  }
  if (state === "expired") {
    return [
      ["Access token", "not usable: the refresh token has expired"],
      [
        "Refresh token",
        `not usable: expired ${formatRelative(at.refreshExpires, at.now)}; run \`${login}\` to get new tokens`,
      ],
    ];
  }
  return [
    ["Access token", expires(at.accessExpires)],
    ["Refresh token", expires(at.refreshExpires)],
  ];
}

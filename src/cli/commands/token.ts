/** `airlock token`: prints a valid access token on stdout, and nothing else. */

import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../context.js";
import { validateProfileName } from "../credentials-file.js";
import { ExitCode } from "../exit-codes.js";
import { credentialStore, freshCredentials } from "../session.js";

export const TOKEN_HELP = `Usage: airlock token [--profile P]

Prints an Airtable access token valid for at least 5 more minutes on stdout, and nothing else,
refreshing it first when needed (the rotated refresh token is saved before the token is printed).
Concurrent runs refresh once between them.

  curl -H "Authorization: Bearer $(airlock token)" https://api.airtable.com/v0/meta/whoami

Flags:
  --profile P   credentials profile (default "default")

Needs AIRTABLE_CLIENT_SECRET when the profile logged in with a client secret.
`;

const FLAGS = {
  profile: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Runs `airlock token`.
 */
export async function tokenCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("token", argv, FLAGS, 0);
  if (values.help) {
    context.output.out(TOKEN_HELP);
    return ExitCode.ok;
  }
  const profile = validateProfileName(values.profile ?? "default");
  const credentials = await freshCredentials({
    store: credentialStore(context.env, context.output),
    profile,
    env: context.env,
    signal: context.signal,
  });
  context.output.out(credentials.accessToken);
  return ExitCode.ok;
}

/** `airlock logout`: forgets a profile's credentials. */

import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../context.js";
import { validateProfileName } from "../credentials-file.js";
import { ExitCode } from "../exit-codes.js";
import { credentialStore } from "../session.js";

export const LOGOUT_HELP = `Usage: airlock logout [--profile P]

Deletes the profile's credentials file. Airtable has no documented token revocation endpoint, so
the grant itself stays valid until it expires (60 days unused): to revoke airlock's access now,
remove the integration under your Airtable account's third-party integrations
(https://airtable.com/account).

Flags:
  --profile P   credentials profile (default "default")
`;

const FLAGS = {
  profile: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Runs `airlock logout`.
 */
export async function logoutCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("logout", argv, FLAGS, 0);
  const { output } = context;
  if (values.help) {
    output.out(LOGOUT_HELP);
    return ExitCode.ok;
  }
  const profile = validateProfileName(values.profile ?? "default");
  const store = credentialStore(context.env, context.output);
  const path = store.path(profile);
  if (!(await store.delete(profile))) {
    output.err(`Not logged in (profile "${profile}"): nothing to delete at ${path}.`);
    return ExitCode.ok;
  }
  output.err(`Logged out: deleted ${path}.`);
  output.err(
    "Airtable has no revocation endpoint, so the authorization itself still exists until it lapses (60 days unused).",
  );
  output.err(
    "To revoke it now, open https://airtable.com/account, find the integration under third-party integrations, and remove its access.",
  );
  return ExitCode.ok;
}

/**
 * The CLI's remedies, added to the library's neutral hints: the library (src/airtable, src/tokens)
 * serves the web service too, so only here may a hint say "run `airlock login`".
 */
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { profileCommand } from "./session.js";

/** What a CLI user does about an Airtable answer, by the situation the library classified. */
function remedy(error: AirlockError, profile: string): string | undefined {
  const status = error.details?.status;
  if (error.code === "invalid_grant") return `Run \`${profileCommand("login", profile)}\` again.`;
  if (error.code !== "api_error") return undefined;
  switch (status) {
    case 401:
      return `airlock already refreshed and retried once: run \`${profileCommand("login", profile)}\` again.`;
    case 403:
      return `To authorize again: \`${profileCommand("login", profile, "--force")}\` (add scopes with --scopes).`;
    case 404:
      return `List what this login can reach with \`${profileCommand("bases", profile)}\` and \`${profileCommand("tables", profile, "BASE_ID")}\`.`;
    default:
      return undefined;
  }
}

/**
 * Adds the CLI's remedy (with the profile's flag) to an error's hint; other errors pass through.
 */
export function withCliHint(error: unknown, profile: string): unknown {
  if (!isAirlockError(error)) return error;
  const extra = remedy(error, profile);
  if (extra === undefined) return error;
  return new AirlockError(error.code, error.message, {
    hint: error.hint ? `${error.hint} ${extra}` : extra,
    ...(error.details ? { details: error.details } : {}),
    retryable: error.retryable,
    cause: error,
  });
}

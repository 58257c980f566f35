import { AirlockError, type AirlockErrorCode } from "../shared/errors.js";

/** The `airlock` process exit codes (documented in `airlock --help`). */
export const ExitCode = {
  ok: 0,
  /** Anything else that went wrong. */
  error: 1,
  /** Bad command line: unknown command or flag, missing or malformed value. */
  usage: 2,
  /** No credentials for the profile, or Airtable needs the user to authorize again. */
  reauth: 3,
  /** Network error, timeout, 5xx, 409 or 429: trying again later may work. */
  transient: 4,
  /** Configuration problem (AIRTABLE_* variables, registration of the integration). */
  config: 5,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const BY_ERROR_CODE: Partial<Record<AirlockErrorCode, ExitCodeValue>> = {
  invalid_input: ExitCode.usage,
  not_logged_in: ExitCode.reauth,
  reauth_required: ExitCode.reauth,
  transient: ExitCode.transient,
  rate_limited: ExitCode.transient,
  timeout: ExitCode.transient,
  config_invalid: ExitCode.config,
  invalid_client: ExitCode.config,
  invalid_scope: ExitCode.config,
  port_in_use: ExitCode.config,
  cancelled: ExitCode.interrupted,
};

/**
 * The exit code for an error thrown by a command.
 */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof AirlockError) return BY_ERROR_CODE[error.code] ?? ExitCode.error;
  return ExitCode.error;
}

/** The exit-code table as shown in `--help` and the README. */
export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    error (see the message)
  2    usage error: unknown command or flag, bad flag value
  3    not logged in, or Airtable needs you to authorize again: run \`airlock login\`
  4    transient: network error, timeout, Airtable 5xx/409/429; try again later
  5    configuration error: AIRTABLE_* settings, busy callback port, integration registration
  130  interrupted (Ctrl-C)`;

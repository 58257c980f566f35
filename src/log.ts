import { type DestinationStream, destination, type Logger, pino, stdTimeFunctions } from "pino";

export type { Logger };

/**
 * Field names whose values are never written to a log line, at any depth we log.
 * Redaction is a backstop: code should not pass secrets to the logger in the first place.
 *
 * `code` is deliberately not here: it is how errors say what happened (`err.code` = SQLITE_FULL,
 * 57P01, ECONNREFUSED; an AirlockError's code). OAuth authorization codes stay out of logs
 * because nothing logs them: the request log redacts `code` and `state` in query strings
 * (request-log.ts), and the callback handler logs only the error code of a failed exchange.
 */
const SECRET_FIELDS = [
  "access_token",
  "refresh_token",
  "accessToken",
  "refreshToken",
  "code_verifier",
  "codeVerifier",
  "client_secret",
  "clientSecret",
  "secret",
  "secretKey",
  "authorization",
  "cookie",
  "password",
  "token",
];

const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/**
 * Structured JSON logs on stderr (stdout stays free for command output such as `airlock token`).
 *
 * @example
 * const log = createLogger({ level: "info" });
 * log.info({ identifier: "user_123" }, "connection refreshed");
 */
export function createLogger(
  options: {
    level?: string;
    name?: string;
    /** Where lines go (default stderr; tests pass a capture). */
    stream?: DestinationStream;
  } = {},
): Logger {
  return pino(
    {
      level: options.level ?? process.env.AIRLOCK_LOG_LEVEL ?? "info",
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
    },
    options.stream ?? destination(2),
  );
}

/** A logger that writes nothing (library default, and tests that do not look at logs). */
export const silentLogger: Logger = pino({ level: "silent" });

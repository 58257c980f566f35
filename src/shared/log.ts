import { type DestinationStream, destination, type Logger, pino, stdTimeFunctions } from "pino";
import { prettyFactory } from "pino-pretty";
import { AirlockError } from "./errors.js";

export type { Logger };

/** `json`: one JSON object per line (for log collectors); `pretty`: one human-readable line (pino-pretty). */
export type LogFormat = "json" | "pretty";

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
 * The log format: `AIRLOCK_LOG_FORMAT` (`json` or `pretty`) when set, else `pretty` when stderr is a
 * terminal (a person is reading) and `json` otherwise (a file, a pipe, a log collector).
 */
export function logFormat(env: NodeJS.ProcessEnv, stderrIsTTY: boolean): LogFormat {
  const raw = env.AIRLOCK_LOG_FORMAT?.trim().toLowerCase();
  if (!raw) return stderrIsTTY ? "pretty" : "json";
  if (raw === "json" || raw === "pretty") return raw;
  throw new AirlockError("config_invalid", `AIRLOCK_LOG_FORMAT must be json or pretty, not "${raw}".`, {
    hint: "Set AIRLOCK_LOG_FORMAT=json (one JSON object per line) or AIRLOCK_LOG_FORMAT=pretty (readable lines), or unset it to choose by whether stderr is a terminal.",
  });
}

/** What the request log (server/request-log.ts) writes for every request. */
interface RequestEntry {
  method: string;
  path: string;
  status: number;
  durationMs: number;
}

function isRequestEntry(entry: Record<string, unknown>): entry is Record<string, unknown> & RequestEntry {
  return (
    typeof entry.method === "string" &&
    typeof entry.path === "string" &&
    typeof entry.status === "number" &&
    typeof entry.durationMs === "number"
  );
}

/**
 * A pino destination that formats each line with pino-pretty in-process and writes it at once
 * (synchronously, so a line logged just before an exit is not lost; no worker thread). A request
 * entry becomes `GET /path 200 1.5 ms` followed by its other fields.
 */
function prettyStream(out: DestinationStream, colorize: boolean): DestinationStream {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
  });
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      if (isRequestEntry(entry)) {
        const { method, path, status, durationMs, ...rest } = entry;
        entry = { ...rest, msg: `${method} ${path} ${status} ${durationMs} ms` };
      }
      out.write(format(entry));
    },
  };
}

/**
 * Logs on stderr (stdout stays free for command output such as `airlock token`): JSON lines, or
 * human-readable lines when stderr is a terminal (see {@link logFormat}; `NO_COLOR` turns colours off).
 */
export function createLogger(
  options: {
    level?: string;
    name?: string;
    /** Where lines go (default stderr; tests pass a capture). */
    stream?: DestinationStream;
    /** Default: {@link logFormat} for stderr, or `json` when a `stream` is given. */
    format?: LogFormat;
  } = {},
): Logger {
  const toStderr = options.stream === undefined;
  const stderrIsTTY = toStderr && process.stderr.isTTY === true;
  const format = options.format ?? (toStderr ? logFormat(process.env, stderrIsTTY) : "json");
  const out = options.stream ?? destination({ fd: 2, sync: true });
  const colorize = stderrIsTTY && !process.env.NO_COLOR;
  return pino(
    {
      level: options.level ?? process.env.AIRLOCK_LOG_LEVEL ?? "info",
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
    },
    format === "pretty" ? prettyStream(out, colorize) : out,
  );
}

/** A logger that writes nothing (library default, and tests that do not look at logs). */
export const silentLogger: Logger = pino({ level: "silent" });

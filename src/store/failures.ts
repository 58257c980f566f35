/**
 * Store failures that are the database's condition, not Airlock's bug: PostgreSQL down, restarting
 * or out of connections, a full or read-only disk, a SQLite file locked by another process. They
 * become one retryable `transient` AirlockError (HTTP 503 with Retry-After) whose hint names the
 * fix; the driver's own error stays as `cause`, for the log.
 */
import { AirlockError, errorCode } from "../shared/errors.js";

/** Which database an error came from, so the hint can name it. */
export interface StoreFailureContext {
  kind?: "sqlite" | "postgres" | undefined;
  /** The SQLite file, or PostgreSQL's `host:port/database` (never credentials). */
  location?: string | undefined;
}

/**
 * Called once for every driver error that was recognised and translated (metrics, logs).
 *
 * @example
 * const onFailure: StoreFailureListener = (failure, store) => console.warn(store, failure.details);
 */
export type StoreFailureListener = (failure: AirlockError, store: "sqlite" | "postgres") => void;

interface Family {
  reason: string;
  retryAfterSeconds: number;
  hint(context: StoreFailureContext): string;
}

const postgresAt = (c: StoreFailureContext) =>
  c.location ? `PostgreSQL at ${c.location} (DATABASE_URL)` : "PostgreSQL at DATABASE_URL";
const sqliteFile = (c: StoreFailureContext) =>
  c.location ? `the SQLite file ${c.location}` : "the SQLite file named by DATABASE_URL";
const RETRIES = "Airlock keeps rotated tokens in memory meanwhile and retries.";

const UNREACHABLE: Family = {
  reason: "cannot reach PostgreSQL",
  retryAfterSeconds: 5,
  hint: (c) => `Check that ${postgresAt(c)} is running and reachable; ${RETRIES}`,
};
const SHUTTING_DOWN: Family = {
  reason: "PostgreSQL is shutting down or restarting",
  retryAfterSeconds: 5,
  hint: (c) => `Wait for ${postgresAt(c)} to finish restarting (or start it again); ${RETRIES}`,
};
const STARTING_UP: Family = {
  reason: "PostgreSQL is starting up",
  retryAfterSeconds: 5,
  hint: (c) => `Wait for ${postgresAt(c)} to finish starting (recovery can take a while); ${RETRIES}`,
};
const TOO_MANY_CONNECTIONS: Family = {
  reason: "PostgreSQL has no free connection slots",
  retryAfterSeconds: 5,
  hint: (c) =>
    `Raise max_connections on ${postgresAt(c)}, or open fewer connections (every Airlock instance keeps a pool of 10, plus one for LISTEN); ${RETRIES}`,
};
const POSTGRES_DISK_FULL: Family = {
  reason: "PostgreSQL's disk is full",
  retryAfterSeconds: 30,
  hint: (c) => `Free space on the data volume of ${postgresAt(c)}; ${RETRIES}`,
};
const POSTGRES_READ_ONLY: Family = {
  reason: "PostgreSQL accepts no writes",
  retryAfterSeconds: 30,
  hint: (c) =>
    `${postgresAt(c)} is read-only (a standby, or default_transaction_read_only is on): point DATABASE_URL at the primary; ${RETRIES}`,
};
const DISK_FULL: Family = {
  reason: "disk full",
  retryAfterSeconds: 30,
  hint: (c) =>
    `Free space on the volume holding ${sqliteFile(c)} (SQLite also writes its -wal file beside it); ${RETRIES}`,
};
const LOCKED: Family = {
  reason: "the database is locked by another process",
  retryAfterSeconds: 1,
  hint: (c) =>
    `Another process has held the write lock on ${sqliteFile(c)} for longer than the busy timeout; find it (a long transaction, a backup, a second tool) or move to PostgreSQL for many writers. ${RETRIES}`,
};
const READ_ONLY: Family = {
  reason: "the database file is read-only",
  retryAfterSeconds: 30,
  hint: (c) =>
    `Make ${sqliteFile(c)} and its folder writable by the user running Airlock, on a read-write mount; ${RETRIES}`,
};
const IO_ERROR: Family = {
  reason: "disk I/O error",
  retryAfterSeconds: 10,
  hint: (c) =>
    `The volume holding ${sqliteFile(c)} reported an I/O error: check the disk and the mount. ${RETRIES}`,
};
const CANNOT_OPEN: Family = {
  reason: "cannot open the database file",
  retryAfterSeconds: 10,
  hint: (c) =>
    `Check that ${sqliteFile(c)}, its -wal and -shm files and its folder still exist and are writable. ${RETRIES}`,
};

/** Node socket and DNS errors (node-postgres passes them through with their `code`). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** node-postgres errors that carry only a message; the code we report for each. */
const POSTGRES_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Connection terminated unexpectedly/, "PG_CONNECTION_TERMINATED"],
  [/^Connection terminated due to connection timeout/, "PG_CONNECT_TIMEOUT"],
  [/^timeout exceeded when trying to connect/, "PG_CONNECT_TIMEOUT"],
  [/^Client has encountered a connection error and is not queryable/, "PG_CONNECTION_BROKEN"],
];

const SQLSTATES: Readonly<Record<string, Family>> = {
  "57P01": SHUTTING_DOWN, // admin_shutdown
  "57P02": SHUTTING_DOWN, // crash_shutdown
  "57P03": STARTING_UP, // cannot_connect_now
  "53300": TOO_MANY_CONNECTIONS, // too_many_connections
  "53100": POSTGRES_DISK_FULL, // disk_full
  "25006": POSTGRES_READ_ONLY, // read_only_sql_transaction
};

/** better-sqlite3 primary result codes (extended codes such as SQLITE_IOERR_WRITE share them). */
const SQLITE_CODES: Readonly<Record<string, Family>> = {
  SQLITE_FULL: DISK_FULL,
  SQLITE_BUSY: LOCKED,
  SQLITE_LOCKED: LOCKED,
  SQLITE_READONLY: READ_ONLY,
  SQLITE_IOERR: IO_ERROR,
  SQLITE_CANTOPEN: CANNOT_OPEN,
};

const FILE_SYSTEM_CODES: Readonly<Record<string, Family>> = {
  ENOSPC: DISK_FULL,
  EROFS: READ_ONLY,
  EIO: IO_ERROR,
};

/**
 * The `transient` AirlockError for a driver error that means "the database is unavailable", or
 * null for anything else (constraint violations, SQL mistakes, bugs: those stay what they are).
 *
 * @example
 * try {
 *   await db.insertInto("events").values(row).execute();
 * } catch (error) {
 *   throw storeFailure(error, { kind: "sqlite", location: "/data/airlock.db" }) ?? error;
 * }
 */
export function storeFailure(error: unknown, context: StoreFailureContext = {}): AirlockError | null {
  if (error instanceof AirlockError) return null;
  const found = recognise(error);
  if (!found) return null;
  const { family, code } = found;
  return new AirlockError("transient", `The database is unavailable (${family.reason}).`, {
    hint: family.hint(context),
    details: { retry_after_seconds: family.retryAfterSeconds, store_error: code },
    cause: error,
  });
}

function recognise(error: unknown): { family: Family; code: string } | null {
  // Node reports a refused connection to every address of a host name as one AggregateError.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = recognise(inner);
      if (found) return found;
    }
  }
  if (!(error instanceof Error)) return null;
  const code = errorCode(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return { family: UNREACHABLE, code };
    const fileSystem = FILE_SYSTEM_CODES[code];
    if (fileSystem) return { family: fileSystem, code };
    if (/^08[0-9A-Z]{3}$/.test(code)) return { family: UNREACHABLE, code }; // connection_exception
    const sqlstate = SQLSTATES[code];
    if (sqlstate) return { family: sqlstate, code };
    const sqlite = SQLITE_CODES[/^SQLITE_[A-Z]+/.exec(code)?.[0] ?? ""];
    if (sqlite) return { family: sqlite, code };
  }
  for (const [pattern, messageCode] of POSTGRES_MESSAGES) {
    if (pattern.test(error.message)) return { family: UNREACHABLE, code: messageCode };
  }
  return null;
}

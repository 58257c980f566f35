/**
 * The embedded store: SQLite through better-sqlite3, in WAL mode with a busy timeout, so several
 * processes on one machine can share the file. Changes are announced to listeners in this process
 * only (SQLite has no cross-process notification; other processes poll).
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, Kysely, SqliteDialect, SqliteDriver } from "kysely";
import { AirlockError, errorCode } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import { ChangeFeed } from "./change-feed.js";
import { type StoreFailureListener, storeFailure } from "./failures.js";
import type { Database } from "./schema.js";
import { type Clock, systemClock } from "./sql/context.js";
import type { SqlDialect } from "./sql/dialect.js";
import { SqlStore, type SqlStoreOptions } from "./sql-store.js";
import { translatingDialect } from "./translating-driver.js";

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** The one-row table `migrate()` writes to prove the file is writable (migration 0002). */
const HEALTH_UPSERT =
  "insert into airlock_health (id, checked_at) values (1, ?) on conflict (id) do update set checked_at = excluded.checked_at";

export interface SqliteStoreOptions extends SqlStoreOptions {
  /** Told about every driver error translated into a `transient` store failure (metrics). */
  onFailure?: StoreFailureListener | undefined;
  /**
   * Injected for tests: receives the file's better-sqlite3 connection (shared by every store on the
   * file in this process), e.g. to set a `max_page_count` that makes the database full.
   */
  onOpen?: ((sqlite: BetterSqlite3.Database) => void) | undefined;
}

/**
 * Opens (creating when absent) a SQLite store at `path`. Call `migrate()` before use: it also
 * proves the file is writable, failing with `config_invalid` on a read-only file or mount.
 *
 * @example
 * const store = openSqliteStore("./airlock.db", { keyring });
 * await store.migrate();
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions): SqlStore {
  const log = options.logger ?? silentLogger;
  const file = openShared(path);
  options.onOpen?.(file.sqlite);
  const dialect = sqliteDialect(file, log, options.onFailure, options.now ?? systemClock);
  return new SqlStore(file.db, dialect, options);
}

interface SharedFile {
  key: string | null;
  sqlite: BetterSqlite3.Database;
  db: Kysely<Database>;
  feed: ChangeFeed;
  refs: number;
  migrating: Promise<void>;
  /** The driver error `error` stands for, translated and reported to every store on the file. */
  translate(error: unknown): unknown;
  /** One per store open on the file (stores sharing the connection share its failures). */
  failureListeners: Set<(failure: AirlockError) => void>;
}

/**
 * Stores opened on the same file in one process share one connection. better-sqlite3 waits for a
 * lock synchronously, so a second connection in the same process would block the event loop while
 * the first one sits between two statements of a transaction: a self-deadlock. One connection (and
 * Kysely's connection mutex) serialises them instead; other processes still use their own.
 */
const shared = new Map<string, SharedFile>();

function openShared(path: string): SharedFile {
  const inMemory = path === ":memory:" || path === "";
  const key = inMemory ? null : resolve(path);
  const existing = key ? shared.get(key) : undefined;
  if (existing) {
    existing.refs++;
    return existing;
  }
  const existed = key === null || existsSync(key);
  let sqlite: BetterSqlite3.Database;
  try {
    if (key) mkdirSync(dirname(key), { recursive: true });
    sqlite = new BetterSqlite3(key ?? ":memory:");
  } catch (cause) {
    throw openFailure(key, cause);
  }
  try {
    // Ciphertext only, but still nobody else's business.
    if (key && !existed) chmodSync(key, 0o600);
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Fails on a read-only mount (SQLite cannot create the -shm file, or switch the journal mode).
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
  } catch (cause) {
    sqlite.close();
    throw openFailure(key, cause);
  }
  const failureListeners = new Set<(failure: AirlockError) => void>();
  const context = { kind: "sqlite", location: key ?? ":memory:" } as const;
  const translation = {
    recognise: (error: unknown) => storeFailure(error, context),
    onFailure: (failure: AirlockError) => {
      for (const listener of failureListeners) listener(failure);
    },
  };
  const file: SharedFile = {
    key,
    sqlite,
    db: new Kysely<Database>({
      dialect: translatingDialect(new ImmediateSqliteDialect(sqlite), translation),
    }),
    feed: new ChangeFeed(silentLogger),
    refs: 1,
    migrating: Promise.resolve(),
    translate(error) {
      const failure = translation.recognise(error);
      if (!failure) return error;
      translation.onFailure(failure);
      return failure;
    },
    failureListeners,
  };
  if (key) shared.set(key, file);
  return file;
}

function sqliteDialect(
  file: SharedFile,
  log: Logger,
  onFailure: StoreFailureListener | undefined,
  now: Clock,
): SqlDialect {
  const { sqlite, feed } = file;
  let closed = false;
  const reportFailure = (failure: AirlockError) => {
    log.warn({ err: failure.cause, store_error: failure.details?.store_error }, failure.message);
    onFailure?.(failure, "sqlite");
  };
  file.failureListeners.add(reportFailure);
  return {
    kind: "sqlite",
    async guardMigration(migrate) {
      // Kysely's SQLite adapter only serialises migrations inside one process. BEGIN IMMEDIATE takes
      // the file's write lock (waiting up to busy_timeout), so a second instance starting at the
      // same time waits, then finds the migrations already applied.
      // Stores sharing this connection in one process take turns first.
      const run = file.migrating.then(async () => {
        try {
          sqlite.exec("BEGIN IMMEDIATE");
          await migrate();
          // BEGIN IMMEDIATE succeeds on a read-only file: only a real write proves we can write.
          sqlite.prepare(HEALTH_UPSERT).run(now().getTime());
          sqlite.exec("COMMIT");
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw readOnlyFailure(file.key, err) ?? file.translate(err);
        }
      });
      file.migrating = run.catch(() => undefined);
      await run;
    },
    async announceInTransaction() {},
    announceAfterCommit: (identifier, version) => feed.emit(identifier, version),
    subscribe: (listener) =>
      feed.subscribe((identifier, version) => {
        try {
          listener(identifier, version);
        } catch (err) {
          log.error({ err, identifier }, "connection change listener failed");
        }
      }),
    // Writers are serialised by the database lock: the single UPDATE needs no row locks.
    lockOutboxCandidates: (query) => query,
    async close() {
      if (closed) return;
      closed = true;
      file.refs--;
      file.failureListeners.delete(reportFailure);
      if (file.refs > 0) return;
      if (file.key) shared.delete(file.key);
      await file.db.destroy();
    },
  };
}

/**
 * Transactions start with BEGIN IMMEDIATE: they take the write lock up front (honouring
 * busy_timeout) instead of failing with SQLITE_BUSY when a read turns into a write.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #sqlite: BetterSqlite3.Database;

  constructor(sqlite: BetterSqlite3.Database) {
    super({ database: sqlite });
    this.#sqlite = sqlite;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#sqlite);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #sqlite: BetterSqlite3.Database;

  constructor(sqlite: BetterSqlite3.Database) {
    super({ database: sqlite });
    this.#sqlite = sqlite;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  /**
   * SQLite rolls the transaction back itself on SQLITE_FULL, SQLITE_IOERR and friends; a ROLLBACK
   * then fails with "cannot rollback - no transaction is active", and Kysely would throw that
   * instead of the real error.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#sqlite.inTransaction) await super.rollbackTransaction(connection);
  }
}

/** The `config_invalid` error for a database that cannot be opened (read-only, or otherwise). */
function openFailure(key: string | null, cause: unknown): AirlockError {
  return (
    readOnlyFailure(key, cause) ??
    new AirlockError(
      "config_invalid",
      `Cannot open the SQLite database at ${key}: ${(cause as Error).message}.`,
      {
        hint: "Set DATABASE_URL to a file path Airlock can create and write (its folder must be writable), or to a postgres:// URL.",
        cause,
      },
    )
  );
}

/**
 * `config_invalid` when `error` means the file cannot be written: SQLite said read-only, or could
 * not open a file while the file or its folder is not writable (a read-only mount, mode 0444).
 */
function readOnlyFailure(key: string | null, error: unknown): AirlockError | null {
  if (key === null) return null;
  const original = driverError(error);
  if (!original) return null;
  const code = original.code;
  if (!/^(SQLITE_READONLY|SQLITE_CANTOPEN|EROFS|EACCES|EPERM)/.test(code)) return null;
  const reason =
    unwritable(key) ??
    (code.startsWith("SQLITE_READONLY") ? `SQLite refused to write: ${original.message}` : null);
  if (reason === null) return null;
  return new AirlockError("config_invalid", `The SQLite database at ${key} is read-only (${reason}).`, {
    hint: `Make ${key} and its folder writable by the user running Airlock, on a read-write mount (SQLite creates ${key}-wal and ${key}-shm beside it), or set DATABASE_URL to a writable location.`,
    cause: error,
  });
}

/** Why the file or its folder cannot be written, or null when both can (or the file is absent). */
function unwritable(key: string): string | null {
  for (const target of [key, dirname(key)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EROFS") return "it is on a read-only file system";
      if (code === "EACCES" || code === "EPERM") {
        return target === key
          ? "the file is not writable by this user"
          : "its folder is not writable by this user, so SQLite cannot create the -wal and -shm files";
      }
    }
  }
  return null;
}

/** The first error in the cause chain that carries a driver or system `code`. */
function driverError(error: unknown): { code: string; message: string } | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = errorCode(current);
    if (!(current instanceof AirlockError) && code !== undefined) return { code, message: current.message };
    current = current.cause;
  }
  return null;
}

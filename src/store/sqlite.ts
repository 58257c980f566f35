/**
 * The embedded store: SQLite through better-sqlite3, in WAL mode with a busy timeout, so several
 * processes on one machine can share the file. Changes are announced to listeners in this process
 * only (SQLite has no cross-process notification; other processes poll).
 */
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, Kysely, SqliteDialect, SqliteDriver } from "kysely";
import { AirlockError } from "../errors.js";
import { type Logger, silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import type { Database } from "./schema.js";
import { type SqlDialect, SqlStore, type SqlStoreOptions } from "./sql-store.js";

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating when absent) a SQLite store at `path`. Call `migrate()` before use.
 *
 * @example
 * const store = openSqliteStore("./airlock.db", { keyring });
 * await store.migrate();
 */
export function openSqliteStore(path: string, options: SqlStoreOptions): SqlStore {
  const log = options.logger ?? silentLogger;
  const file = openShared(path);
  return new SqlStore(file.db, sqliteDialect(file, log), options);
}

interface SharedFile {
  key: string | null;
  sqlite: BetterSqlite3.Database;
  db: Kysely<Database>;
  feed: ChangeFeed;
  refs: number;
  migrating: Promise<void>;
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
    throw new AirlockError(
      "config_invalid",
      `Cannot open the SQLite database at ${key}: ${(cause as Error).message}.`,
      {
        hint: "Set DATABASE_URL to a file path Airlock can create and write (its folder must be writable), or to a postgres:// URL.",
        cause,
      },
    );
  }
  // Ciphertext only, but still nobody else's business.
  if (key && !existed) chmodSync(key, 0o600);
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  const file: SharedFile = {
    key,
    sqlite,
    db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) }),
    feed: new ChangeFeed(silentLogger),
    refs: 1,
    migrating: Promise.resolve(),
  };
  if (key) shared.set(key, file);
  return file;
}

function sqliteDialect(file: SharedFile, log: Logger): SqlDialect {
  const { sqlite, feed } = file;
  let closed = false;
  return {
    kind: "sqlite",
    async guardMigration(migrate) {
      // Kysely's SQLite adapter only serialises migrations inside one process. BEGIN IMMEDIATE takes
      // the file's write lock (waiting up to busy_timeout), so a second instance starting at the
      // same time waits, then finds the migrations already applied.
      // Stores sharing this connection in one process take turns first.
      const run = file.migrating.then(async () => {
        sqlite.exec("BEGIN IMMEDIATE");
        try {
          await migrate();
          sqlite.exec("COMMIT");
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw err;
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
    return new ImmediateSqliteDriver({ database: this.#sqlite });
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

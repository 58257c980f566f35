/**
 * Opening a store from `DATABASE_URL`: `postgres://…` / `postgresql://…` selects PostgreSQL,
 * anything else is a SQLite file path (default `./airlock.db`).
 */
import { AirlockError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { Keyring } from "./crypto.js";
import type { StoreFailureListener } from "./failures.js";
import { openPostgresStore } from "./postgres.js";
import type { Clock, SqlStore } from "./sql-store.js";
import { openSqliteStore } from "./sqlite.js";

export { encryptionContext, generateKeyringValue, Keyring, parseEncryptionKeys } from "./crypto.js";
export { type StoreFailureContext, type StoreFailureListener, storeFailure } from "./failures.js";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres.js";
export { DEFAULT_INTEGRATION } from "./sql/context.js";
export { SqlStore } from "./sql-store.js";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite.js";
export type * from "./types.js";

export const DEFAULT_DATABASE_URL = "./airlock.db";

export interface OpenStoreOptions {
  keyring: Keyring;
  /** Event types that also go to the webhook outbox (e.g. from AIRLOCK_WEBHOOK_URL's settings). */
  webhookEvents?: ReadonlySet<string> | null | undefined;
  logger?: Logger | undefined;
  /** The clock for the times the store stamps itself (default: the system clock). */
  now?: Clock | undefined;
  /** PostgreSQL only: the schema for Airlock's tables (overrides `?schema=` in the URL). */
  schema?: string | undefined;
  /** Run migrations before returning (default true). */
  migrate?: boolean | undefined;
  /**
   * Told about every driver error that became a `transient` store failure (database down, disk
   * full, file locked or read-only): `failure.details.store_error` is the driver's code.
   */
  onFailure?: StoreFailureListener | undefined;
}

/**
 * Opens and (by default) migrates the store named by `databaseUrl`.
 *
 * @example
 * const store = await openStore(process.env.DATABASE_URL, {
 *   keyring: parseEncryptionKeys(process.env.AIRLOCK_ENCRYPTION_KEYS),
 * });
 */
export async function openStore(
  databaseUrl: string | undefined,
  options: OpenStoreOptions,
): Promise<SqlStore> {
  const store = selectStore(databaseUrl?.trim() || DEFAULT_DATABASE_URL, options);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
  }
  return store;
}

function selectStore(url: string, options: OpenStoreOptions): SqlStore {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return openPostgresStore(url, options);
  if (scheme === "sqlite" || scheme === "file") {
    return openSqliteStore(url.replace(/^(sqlite|file):(\/\/)?/i, "") || DEFAULT_DATABASE_URL, options);
  }
  // "C:\…" is a Windows path, not a scheme; anything else with "://" is a database we do not speak.
  if (scheme && scheme.length > 1 && url.slice(scheme.length, scheme.length + 3) === "://") {
    throw new AirlockError("config_invalid", `DATABASE_URL uses the unsupported scheme "${scheme}:".`, {
      hint: "Use postgres://USER:PASSWORD@HOST:PORT/DATABASE for PostgreSQL, or a file path (e.g. ./airlock.db) for SQLite.",
    });
  }
  return openSqliteStore(url, options);
}

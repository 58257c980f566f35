/**
 * The service's own folder for files that are not database rows (demo keys, the demo emulator's
 * state, the rotation journal): `.airlock/` in the SQLite file's folder, or in the working
 * directory for a PostgreSQL URL or an in-memory database.
 */
import { dirname, join, resolve } from "node:path";

/**
 * @example
 * airlockDataDir("./airlock.db"); // "/home/me/app/.airlock"
 */
export function airlockDataDir(databaseUrl: string): string {
  const file = sqliteFile(databaseUrl);
  return join(file === undefined ? process.cwd() : dirname(resolve(file)), ".airlock");
}

/**
 * The SQLite file a `DATABASE_URL` names, or undefined for a server URL or an in-memory database.
 *
 * @example
 * sqliteFile("sqlite:///var/lib/airlock.db"); // "/var/lib/airlock.db"
 */
export function sqliteFile(databaseUrl: string): string | undefined {
  const file = databaseUrl.replace(/^(sqlite|file):(\/\/)?/i, "");
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(file);
  return isUrl || file === ":memory:" || file === "" ? undefined : file;
}

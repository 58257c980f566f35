/**
 * The service's own folder for files that are not database rows (demo keys, the demo emulator's
 * state, the rotation journal): `.airlock/` in the SQLite file's folder, or in the working
 * directory for a PostgreSQL URL or an in-memory database. Also: how a database is named to
 * people, and what a start created (so that a failed start can remove it again).
 */
import { existsSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The `.airlock/` folder of a database: beside the SQLite file, or in the working directory for PostgreSQL. */
export function airlockDataDir(databaseUrl: string): string {
  const file = sqliteFile(databaseUrl);
  return join(file === undefined ? process.cwd() : dirname(resolve(file)), ".airlock");
}

/**
 * The SQLite file a `DATABASE_URL` names, or undefined for a server URL or an in-memory database.
 */
export function sqliteFile(databaseUrl: string): string | undefined {
  const file = databaseUrl.replace(/^(sqlite|file):(\/\/)?/i, "");
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(file);
  return isUrl || file === ":memory:" || file === "" ? undefined : file;
}

/**
 * The database a `DATABASE_URL` names, for people: a SQLite file's absolute path, or a server URL
 * without its credentials (user, password, password parameters).
 */
export function describeDatabase(databaseUrl: string): string {
  const file = sqliteFile(databaseUrl);
  if (file !== undefined) return resolve(file);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) return "in memory";
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return "a database server (its URL does not parse, so it is not shown)";
  }
  url.username = "";
  url.password = "";
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|key|token/i.test(key)) url.searchParams.delete(key);
  }
  return url.href;
}

/**
 * What one start of the service creates on disk, so that a start that fails can leave the disk as
 * it found it. Paths are noted before they may be created: `undo` removes the noted files that did
 * not exist then, and the folders that did not exist then once they are empty. A folder is never
 * removed with anything in it that this start did not note.
 */
export class StartFootprint {
  readonly #files: string[] = [];
  readonly #dirs: string[] = [];

  /** Notes a file this start may create (and its missing folders); true when it does not exist yet. */
  file(path: string): boolean {
    const absolute = resolve(path);
    this.dir(dirname(absolute));
    if (existsSync(absolute)) return false;
    this.#files.push(absolute);
    return true;
  }

  /** Notes a file this start has just created itself, exclusively (`O_EXCL`: nobody else can own it). */
  made(path: string): void {
    const absolute = resolve(path);
    if (!this.#files.includes(absolute)) this.#files.push(absolute);
  }

  /** Notes a folder this start may create, with its missing parents; true when it does not exist yet. */
  dir(path: string): boolean {
    let dir = resolve(path);
    const missing = !existsSync(dir);
    while (!existsSync(dir) && dirname(dir) !== dir) {
      if (!this.#dirs.includes(dir)) this.#dirs.push(dir);
      dir = dirname(dir);
    }
    return missing;
  }

  /** Notes a SQLite database file and its companions (-wal, -shm, -journal); true when it is new. */
  sqlite(path: string): boolean {
    const created = this.file(path);
    if (created) for (const suffix of ["-wal", "-shm", "-journal"]) this.file(`${path}${suffix}`);
    return created;
  }

  /** Removes what this start created (best effort: what cannot be removed stays). */
  undo(): void {
    for (const file of this.#files.splice(0)) {
      try {
        rmSync(file, { force: true });
      } catch {
        // Under something that is not a folder (ENOTDIR), or not ours to remove: leave it.
      }
    }
    // Deepest first, so a parent is empty by the time its turn comes.
    for (const dir of this.#dirs.splice(0).sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (something else lives there now) or already gone: leave it.
      }
    }
  }
}

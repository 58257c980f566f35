/**
 * The rotation journal: a local, fsynced, encrypted copy of rotated tokens that the database has
 * not confirmed yet. Once Airtable has rotated, the new refresh token is the only copy of the grant;
 * the journal keeps it through a crash, a deploy or a database outage until the fenced save lands.
 *
 * One file per pending rotation, `<hash(identifier)>-v<base version>.rotation`, written atomically
 * (temp file, fsync, rename, fsync of the folder) and encrypted with the store's keyring, bound to
 * its own file name. Several processes may share the folder: a file is only ever created by the
 * holder of the rotation it records, and applying one is fenced on the row version, so it is
 * applied at most once whoever finds it. See ARCHITECTURE.md ("Durability").
 *
 * A small ballast file is kept beside the entries; when the volume is full, it is given up so the
 * entry that matters can still be written.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AirlockError, errorCode } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import { encryptionContext, type Keyring } from "./crypto.js";
import { connectionKey, DEFAULT_INTEGRATION } from "./sql/context.js";
import { syncDirectory } from "./sync-directory.js";
import type { RefreshedTokens } from "./types.js";

/** Rotated tokens waiting to be saved, and the row version whose refresh token produced them. */
export interface JournaledRotation {
  identifier: string;
  /** The save is fenced on this version: the entry applies only while the row is still at it. */
  baseVersion: number;
  tokens: RefreshedTokens;
  obtainedAt: Date;
}

/** Where rotated tokens wait for the database (see {@link FileRotationJournal}). */
export interface RotationJournal {
  /** The folder, for log lines and messages. */
  readonly location: string;
  /** Durable once it resolves (fsynced). */
  write(entry: JournaledRotation): Promise<void>;
  /** Forgets an entry (saved, or made obsolete by a newer version); absent entries are fine. */
  remove(identifier: string, baseVersion: number): Promise<void>;
  /** Every readable entry; entries that do not decrypt under the keyring are logged and skipped. */
  list(): Promise<JournaledRotation[]>;
}

const SUFFIX = ".rotation";
const BALLAST = ".reserve";
const BALLAST_BYTES = 256 * 1024;

interface EntryFile {
  identifier: string;
  baseVersion: number;
  scopes: string[];
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt: number;
  obtainedAt: number;
}

/** The rotation journal as files: one encrypted, fsynced entry per rotation in one folder. */
export class FileRotationJournal implements RotationJournal {
  readonly location: string;
  readonly #keyring: Keyring;
  readonly #log: Logger;
  /** Bound into every entry's encryption context: an entry moved to another integration's journal does not decrypt. */
  readonly #integration: string;
  #ballastMissing = false;

  private constructor(dir: string, keyring: Keyring, log: Logger, integration: string) {
    this.location = dir;
    this.#keyring = keyring;
    this.#log = log;
    this.#integration = integration;
  }

  /** Creates the folder (0700) and its ballast; fails at start, not mid-refresh, if it is not writable. */
  static async open(
    dir: string,
    options: { keyring: Keyring; logger?: Logger | undefined; integration?: string | undefined },
  ): Promise<FileRotationJournal> {
    const journal = new FileRotationJournal(
      dir,
      options.keyring,
      options.logger ?? silentLogger,
      options.integration ?? DEFAULT_INTEGRATION,
    );
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await journal.#ensureBallast();
    } catch (cause) {
      if (errorCode(cause) === "ENOSPC") {
        journal.#log.warn({ dir }, "rotation journal: no space for its ballast file; continuing");
        journal.#ballastMissing = true;
        return journal;
      }
      throw new AirlockError("config_invalid", `The rotation journal folder ${dir} is not writable.`, {
        hint: "Make it writable by Airlock, or point AIRLOCK_JOURNAL_DIR at a folder on a local disk that is.",
        cause,
      });
    }
    return journal;
  }

  async write(entry: JournaledRotation): Promise<void> {
    const name = fileName(entry.identifier, entry.baseVersion);
    const body: EntryFile = {
      identifier: entry.identifier,
      baseVersion: entry.baseVersion,
      scopes: entry.tokens.scopes,
      accessToken: entry.tokens.accessToken,
      refreshToken: entry.tokens.refreshToken,
      accessTokenExpiresAt: entry.tokens.accessTokenExpiresAt.getTime(),
      refreshTokenExpiresAt: entry.tokens.refreshTokenExpiresAt.getTime(),
      obtainedAt: entry.obtainedAt.getTime(),
    };
    const sealed = this.#keyring.encrypt(JSON.stringify(body), contextOf(this.#integration, name));
    try {
      await this.#writeAtomically(name, sealed);
    } catch (error) {
      if (errorCode(error) !== "ENOSPC" || !(await this.#dropBallast())) throw error;
      await this.#writeAtomically(name, sealed);
    }
  }

  async remove(identifier: string, baseVersion: number): Promise<void> {
    await rm(join(this.location, fileName(identifier, baseVersion)), { force: true });
    if (this.#ballastMissing) {
      this.#ballastMissing = false;
      await this.#ensureBallast().catch(() => {
        this.#ballastMissing = true;
      });
    }
  }

  async list(): Promise<JournaledRotation[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw error;
    }
    const entries: JournaledRotation[] = [];
    for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
      const entry = await this.#read(name);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  async #read(name: string): Promise<JournaledRotation | null> {
    try {
      const sealed = await readFile(join(this.location, name), "utf8");
      const body = JSON.parse(
        this.#keyring.decrypt(sealed.trim(), contextOf(this.#integration, name)),
      ) as EntryFile;
      return {
        identifier: body.identifier,
        baseVersion: body.baseVersion,
        tokens: {
          scopes: body.scopes,
          accessToken: body.accessToken,
          refreshToken: body.refreshToken,
          accessTokenExpiresAt: new Date(body.accessTokenExpiresAt),
          refreshTokenExpiresAt: new Date(body.refreshTokenExpiresAt),
        },
        obtainedAt: new Date(body.obtainedAt),
      };
    } catch (error) {
      if (errorCode(error) === "ENOENT") return null; // applied and removed by someone else meanwhile
      this.#log.error(
        { err: error, file: join(this.location, name) },
        "rotation journal: unreadable entry kept",
      );
      return null;
    }
  }

  async #writeAtomically(name: string, content: string): Promise<void> {
    const tmp = join(this.location, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
      await handle.close();
      await rename(tmp, join(this.location, name));
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(this.location);
  }

  async #ensureBallast(): Promise<void> {
    const path = join(this.location, BALLAST);
    const handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT, 0o600);
    try {
      const { size } = await handle.stat();
      if (size < BALLAST_BYTES) {
        await handle.write(Buffer.alloc(BALLAST_BYTES - size), 0, BALLAST_BYTES - size, size);
        await handle.sync();
      }
    } catch (error) {
      await handle.close();
      await rm(path, { force: true });
      throw error;
    }
    await handle.close();
  }

  /** Frees the ballast's space for an entry; false when there was none left to give. */
  async #dropBallast(): Promise<boolean> {
    if (this.#ballastMissing) return false;
    this.#ballastMissing = true;
    await rm(join(this.location, BALLAST), { force: true });
    this.#log.warn({ dir: this.location }, "rotation journal: volume full, ballast released for an entry");
    return true;
  }
}

function fileName(identifier: string, baseVersion: number): string {
  const digest = createHash("sha256").update(identifier).digest("hex").slice(0, 32);
  return `${digest}-v${baseVersion}${SUFFIX}`;
}

function contextOf(integration: string, name: string): string {
  return encryptionContext("journal", "rotation", connectionKey(integration, name));
}

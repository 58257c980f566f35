/**
 * The CLI's credentials cache: one JSON file per profile under AIRLOCK_HOME, mode 0600 in a 0700
 * folder, replaced atomically (temp file in the same folder, fsync, rename) so a crash or a
 * concurrent reader never sees half a file and a rotated refresh token is never lost to a torn write.
 *
 * What is stored: everything a later refresh needs (client id, redirect URI, endpoints, whether the
 * integration uses a client secret), the tokens with absolute expiry times, the user's id and email,
 * and the granted scopes. The client secret itself is NOT stored: it belongs to the integration, not
 * to the user, and keeping it out of the file means a leaked file alone cannot refresh a confidential
 * client's grant. A refresh reads it from AIRTABLE_CLIENT_SECRET again.
 *
 * A credentials file may be a symlink (e.g. into a synced dotfiles folder): writes go through it to
 * the real file (temp file and rename in the target's folder), so the link stays a link and never
 * keeps a rotated-away refresh token.
 */
import { constants as fsConstants } from "node:fs";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  unlink,
} from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { AirlockError, errorCode } from "../shared/errors.js";
import { syncDirectory } from "../store/sync-directory.js";
import type { StoredCredentials } from "./credentials-schema.js";

/** Profile names become file names: keep them to a safe alphabet. */
const PROFILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One profile's stored credentials, as written to `credentials-<profile>.json`. Dates are ISO strings. */
export type { StoredCredentials };

/** The zod schema, loaded only for a file the fast check below does not accept (zod is ~95 modules). */
async function schema(): Promise<typeof import("./credentials-schema.js").credentialsSchema> {
  return (await import("./credentials-schema.js")).credentialsSchema;
}

const STRING_KEYS = [
  "profile",
  "clientId",
  "redirectUri",
  "oauthUrl",
  "apiUrl",
  "accessToken",
  "refreshToken",
] as const;
const DATE_KEYS = [
  "accessTokenExpiresAt",
  "refreshTokenExpiresAt",
  "obtainedAt",
  "createdAt",
  "updatedAt",
] as const;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isIsoDate(value: unknown): value is string {
  return typeof value === "string" && ISO_RE.test(value) && new Date(value).toISOString() === value;
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

/**
 * `credentialsSchema.parse` without zod for what `write` itself produces (`toISOString()` dates):
 * the same keys in the same order, unknown keys dropped, `reauthReason` defaulting to null.
 * Undefined means "not sure": the caller asks the schema, which then decides exactly as before.
 */
export function parseCredentialsFast(json: unknown): StoredCredentials | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (o.version !== 1 || o.tokenType !== "Bearer" || typeof o.usesClientSecret !== "boolean")
    return undefined;
  if (typeof o.profile !== "string") return undefined;
  for (const key of STRING_KEYS)
    if (typeof o[key] !== "string" || (key !== "profile" && o[key] === "")) return undefined;
  for (const key of DATE_KEYS) if (!isIsoDate(o[key])) return undefined;
  if (!Array.isArray(o.scopes) || !o.scopes.every((scope) => typeof scope === "string")) return undefined;
  if (!isStringOrNull(o.userId) || !isStringOrNull(o.email)) return undefined;
  if (o.reauthReason !== undefined && !isStringOrNull(o.reauthReason)) return undefined;
  return {
    version: 1,
    profile: o.profile,
    clientId: o.clientId as string,
    usesClientSecret: o.usesClientSecret,
    redirectUri: o.redirectUri as string,
    oauthUrl: o.oauthUrl as string,
    apiUrl: o.apiUrl as string,
    scopes: [...(o.scopes as string[])],
    accessToken: o.accessToken as string,
    refreshToken: o.refreshToken as string,
    tokenType: "Bearer",
    accessTokenExpiresAt: o.accessTokenExpiresAt as string,
    refreshTokenExpiresAt: o.refreshTokenExpiresAt as string,
    obtainedAt: o.obtainedAt as string,
    userId: o.userId,
    email: o.email,
    createdAt: o.createdAt as string,
    updatedAt: o.updatedAt as string,
    reauthReason: o.reauthReason ?? null,
  };
}

/**
 * The default credentials folder: `$XDG_CONFIG_HOME/airlock` or `~/.config/airlock` on Linux,
 * `~/Library/Application Support/airlock` on macOS, `%APPDATA%\airlock` on Windows;
 * `AIRLOCK_HOME` overrides all of them.
 */
export function resolveAirlockHome(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.AIRLOCK_HOME) return env.AIRLOCK_HOME;
  if (platform === "win32") return join(env.APPDATA || join(home, "AppData", "Roaming"), "airlock");
  if (platform === "darwin") return join(home, "Library", "Application Support", "airlock");
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), "airlock");
}

/**
 * Checks a profile name (it becomes part of a file name).
 */
export function validateProfileName(profile: string): string {
  if (!PROFILE_PATTERN.test(profile)) {
    throw new AirlockError("invalid_input", `Invalid profile name "${profile}".`, {
      hint: "Use 1–64 characters from A-Z a-z 0-9 . _ - (starting with a letter or digit), e.g. --profile work.",
    });
  }
  return profile;
}

export interface FileCredentialStoreOptions {
  /**
   * Told when `read` finds the credentials file (or its symlink's target) open to the group or to
   * others (`mode & 0o077`), with the profile's path and the permission bits. Never on Windows.
   */
  onInsecureMode?: (path: string, mode: number) => void;
}

/** Where a write lands: the profile's path, or the real file its symlink (chain) points to. */
interface WriteTarget {
  /** The file the rename replaces. */
  file: string;
  /** The folder holding it: temp file and fsync go here. */
  folder: string;
  /** The profile's path when it is a symlink, else null. */
  link: string | null;
}

/**
 * Reads and writes credential files.
 */
export class FileCredentialStore {
  readonly home: string;
  readonly #onInsecureMode: ((path: string, mode: number) => void) | undefined;

  constructor(home: string, options: FileCredentialStoreOptions = {}) {
    this.home = home;
    this.#onInsecureMode = options.onInsecureMode;
  }

  /** The credentials file of a profile. */
  path(profile: string): string {
    return join(this.home, `credentials-${validateProfileName(profile)}.json`);
  }

  /** The lock file guarding refreshes of a profile. */
  lockPath(profile: string): string {
    return `${this.path(profile)}.lock`;
  }

  /**
   * The stored credentials, or null when the profile has none. A damaged file is an error that says
   * what to do; a file others can read is reported to `onInsecureMode` (and still read).
   */
  async read(profile: string): Promise<StoredCredentials | null> {
    const path = this.path(profile);
    let raw: string;
    try {
      raw = await this.#readText(path);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw new AirlockError("config_invalid", `Cannot read the credentials file ${path}.`, {
        cause: error,
        hint: "Check the file's permissions, or run `airlock login --force` to replace it.",
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const fast = parseCredentialsFast(json);
    if (fast) return fast;
    const parsed = (await schema()).safeParse(json);
    if (!parsed.success) {
      throw new AirlockError(
        "config_invalid",
        `The credentials file ${path} is damaged or from another version.`,
        {
          hint: "Run `airlock login --force` to replace it (or delete the file).",
        },
      );
    }
    return parsed.data;
  }

  /**
   * Replaces the profile's file atomically: temp file (0600) in the same folder, fsync, rename, fsync
   * folder. Through a symlink, all of that happens in the real file's folder and the link stays.
   * Refuses (`config_invalid`) a dangling link and a folder it cannot write, before touching anything.
   */
  async write(profile: string, credentials: StoredCredentials): Promise<void> {
    const valid = parseCredentialsFast(credentials) ?? (await schema()).parse(credentials);
    const body = `${JSON.stringify(valid, null, 2)}\n`;
    await this.ensureHome();
    const target = await this.#writeTarget(profile);
    const tmp = await tempPath(target.folder, profile);
    const handle = await createTemp(tmp).catch((error: unknown) => {
      throw unwritableFolderError(target, error);
    });
    try {
      await handle.writeFile(body, "utf8");
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw errorCode(error) === "ENOSPC" ? unwritableFolderError(target, error) : error;
    }
    await handle.close();
    try {
      await rename(tmp, target.file);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    await syncDirectory(target.folder);
  }

  /**
   * Proves a later `write` can succeed, before anything worth saving exists (a login calls it before
   * the browser flow): creates AIRLOCK_HOME if missing, then creates and deletes a temp file in it,
   * and in the real file's folder when the profile's file is a symlink. Throws `config_invalid`
   * naming the folder and the OS reason (EACCES, EROFS, ENOSPC, ENOTDIR) otherwise.
   */
  async probeWritable(profile: string): Promise<void> {
    const home: WriteTarget = { file: this.path(profile), folder: this.home, link: null };
    await this.ensureHome().catch((error: unknown) => {
      throw unwritableFolderError(home, error);
    });
    await probeFolder(home, profile);
    const target = await this.#writeTarget(profile);
    if (target.link) await probeFolder(target, profile);
  }

  /** Deletes the profile's file; false when there was none. */
  /**
   * Deletes the profile's file; false when there was none. Through a symlink, the tokens in the
   * link's target go too (a logout that left them there would leave a live grant behind).
   */
  async delete(profile: string): Promise<boolean> {
    const path = this.path(profile);
    const target = (await isSymlink(path).catch(() => false)) ? await lastLinkTarget(path) : null;
    let deleted = false;
    for (const file of target === null ? [path] : [target, path]) {
      try {
        await unlink(file);
        deleted = true;
        await syncDirectory(dirname(file));
      } catch (error) {
        if (errorCode(error) !== "ENOENT") throw error;
      }
    }
    return deleted;
  }

  /** Creates AIRLOCK_HOME (0700) if missing. An existing folder keeps its mode: it may be shared (e.g. a temp dir). */
  async ensureHome(): Promise<void> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
  }

  /** The file's text (following links), after reporting permission bits that let others in. */
  async #readText(path: string): Promise<string> {
    const handle = await open(path, fsConstants.O_RDONLY);
    try {
      const mode = (await handle.stat()).mode & 0o777;
      if (process.platform !== "win32" && (mode & 0o077) !== 0) this.#onInsecureMode?.(path, mode);
      return await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  }

  /** The profile's path, or the real file at the end of its symlink chain (which must exist). */
  async #writeTarget(profile: string): Promise<WriteTarget> {
    const path = this.path(profile);
    if (!(await isSymlink(path))) return { file: path, folder: this.home, link: null };
    let file: string;
    try {
      file = await realpath(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT") throw danglingLinkError(path, await lastLinkTarget(path));
      throw brokenLinkError(path, error);
    }
    if (!(await stat(file)).isFile()) {
      throw brokenLinkError(path, new Error(`${file} is not a regular file`));
    }
    return { file, folder: dirname(file), link: path };
  }
}

/** True when `path` exists and is a symbolic link (not followed). */
async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw error;
  }
}

/** Follows a chain of links by hand to the first path that does not exist (for the error message). */
async function lastLinkTarget(path: string): Promise<string> {
  let current = path;
  for (let hop = 0; hop < 40 && (await isSymlink(current)); hop++) {
    current = resolve(dirname(current), await readlink(current));
  }
  return current;
}

function danglingLinkError(link: string, target: string): AirlockError {
  return new AirlockError(
    "config_invalid",
    `The credentials file ${link} is a symlink to ${target}, which does not exist: airlock will not replace the link with a regular file.`,
    {
      hint: `Restore ${target} (is its folder synced or mounted?), or remove the link (rm ${link}) and run \`airlock login\` again.`,
    },
  );
}

function brokenLinkError(link: string, error: unknown): AirlockError {
  return new AirlockError(
    "config_invalid",
    `The credentials file ${link} is a symlink that does not lead to a regular file (${osReason(error)}).`,
    {
      cause: error,
      hint: `Point the link at a credentials file, or remove it (rm ${link}) and run \`airlock login\` again.`,
    },
  );
}

/** The error for a folder a write (or the probe) cannot create a file in. */
function unwritableFolderError(target: WriteTarget, error: unknown): AirlockError {
  const reason = osReason(error);
  const { folder, link } = target;
  const code = errorCode(error);
  const fix =
    code === "ENOSPC"
      ? "Free some space on its disk"
      : code === "ENOTDIR" || code === "EEXIST"
        ? "Replace the file in its path with a folder"
        : `Make it writable (chmod u+w ${folder})`;
  if (link) {
    return new AirlockError(
      "config_invalid",
      `The credentials file ${link} is a symlink to ${target.file}, whose folder ${folder} airlock cannot write (${reason}).`,
      {
        cause: error,
        hint: `${fix}, or replace the link with a regular file (rm ${link}), then run \`airlock login\` again.`,
      },
    );
  }
  return new AirlockError("config_invalid", `Cannot write to the credentials folder ${folder} (${reason}).`, {
    cause: error,
    hint: `${fix}, or set AIRLOCK_HOME to a folder you can write, then run \`airlock login\` again.`,
  });
}

/** Creates and deletes a temp file in the target's folder. */
async function probeFolder(target: WriteTarget, profile: string): Promise<void> {
  const tmp = await tempPath(target.folder, profile);
  try {
    const handle = await createTemp(tmp);
    await handle.close();
    await unlink(tmp);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw unwritableFolderError(target, error);
  }
}

/**
 * A fresh temp file name next to the file it will replace. `node:crypto` is imported only here: a
 * read (`airlock token` with no refresh due) never writes, and should not pay for loading it.
 */
async function tempPath(folder: string, profile: string): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  return join(folder, `.credentials-${profile}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Creates a new temp file, 0600, failing if the name exists. */
function createTemp(path: string): Promise<FileHandle> {
  return open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
}

/** "EROFS: read-only file system" from a Node errno error (its message without the path part). */
function osReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  const head = error.message.split(", ")[0] ?? error.message;
  return code && !head.startsWith(code) ? `${code}: ${head}` : head;
}

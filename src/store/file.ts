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
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { mkdir, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { AirlockError } from "../errors.js";

/** Profile names become file names: keep them to a safe alphabet. */
const PROFILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const isoDate = z.iso.datetime({ offset: true });

const credentialsSchema = z.object({
  version: z.literal(1),
  profile: z.string(),
  clientId: z.string().min(1),
  usesClientSecret: z.boolean(),
  redirectUri: z.string().min(1),
  oauthUrl: z.string().min(1),
  apiUrl: z.string().min(1),
  scopes: z.array(z.string()),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  tokenType: z.literal("Bearer"),
  accessTokenExpiresAt: isoDate,
  refreshTokenExpiresAt: isoDate,
  obtainedAt: isoDate,
  userId: z.string().nullable(),
  email: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
  /**
   * Set when Airtable rejected the refresh token (invalid_grant): later commands fail at once with
   * "run `airlock login` again" instead of sending a dead token again (repeated invalid refreshes
   * can get an integration revoked).
   */
  reauthReason: z.string().nullable().default(null),
});

/** One profile's stored credentials, as written to `credentials-<profile>.json`. Dates are ISO strings. */
export type StoredCredentials = z.output<typeof credentialsSchema>;

/**
 * The default credentials folder: `$XDG_CONFIG_HOME/airlock` or `~/.config/airlock` on Linux,
 * `~/Library/Application Support/airlock` on macOS, `%APPDATA%\airlock` on Windows;
 * `AIRLOCK_HOME` overrides all of them.
 *
 * @example
 * const home = resolveAirlockHome(process.env); // "/home/ada/.config/airlock"
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
 *
 * @example
 * validateProfileName("work"); // "work"
 */
export function validateProfileName(profile: string): string {
  if (!PROFILE_PATTERN.test(profile)) {
    throw new AirlockError("invalid_input", `Invalid profile name "${profile}".`, {
      hint: "Use 1–64 characters from A-Z a-z 0-9 . _ - (starting with a letter or digit), e.g. --profile work.",
    });
  }
  return profile;
}

/**
 * Reads and writes credential files.
 *
 * @example
 * const store = new FileCredentialStore(resolveAirlockHome(process.env));
 * const creds = await store.read("default");
 * if (creds) await store.write("default", { ...creds, email: "ada@example.com" });
 */
export class FileCredentialStore {
  readonly home: string;

  constructor(home: string) {
    this.home = home;
  }

  /** The credentials file of a profile. */
  path(profile: string): string {
    return join(this.home, `credentials-${validateProfileName(profile)}.json`);
  }

  /** The lock file guarding refreshes of a profile. */
  lockPath(profile: string): string {
    return `${this.path(profile)}.lock`;
  }

  /** The stored credentials, or null when the profile has none. A damaged file is an error that says what to do. */
  async read(profile: string): Promise<StoredCredentials | null> {
    const path = this.path(profile);
    let raw: string;
    try {
      raw = await readFile(path, "utf8");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return null;
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
    const parsed = credentialsSchema.safeParse(json);
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

  /** Replaces the profile's file atomically: temp file (0600) in the same folder, fsync, rename, fsync folder. */
  async write(profile: string, credentials: StoredCredentials): Promise<void> {
    const path = this.path(profile);
    await this.ensureHome();
    const tmp = join(
      this.home,
      `.credentials-${profile}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`,
    );
    const body = `${JSON.stringify(credentialsSchema.parse(credentials), null, 2)}\n`;
    const handle = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    try {
      await handle.writeFile(body, "utf8");
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    try {
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    await syncDirectory(this.home);
  }

  /** Deletes the profile's file; false when there was none. */
  async delete(profile: string): Promise<boolean> {
    try {
      await unlink(this.path(profile));
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false;
      throw error;
    }
    await syncDirectory(this.home);
    return true;
  }

  /** Creates AIRLOCK_HOME (0700) if missing. An existing folder keeps its mode: it may be shared (e.g. a temp dir). */
  async ensureHome(): Promise<void> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
  }
}

/** Makes a rename durable (POSIX); Windows cannot open a folder for fsync, and does not need to. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

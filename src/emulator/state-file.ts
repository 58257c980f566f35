/**
 * The emulator's optional state file: what must outlive a restart (grants, token hashes, rotation
 * history, clock offset, enabled scopes) as versioned JSON, read once at start and rewritten
 * atomically, coalesced, off the request path.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { AirlockError, errorCode } from "../shared/errors.js";
import { isKnownScope } from "./scopes.js";

/** Bumped whenever the file's shape changes incompatibly; a file of another version is refused. */
export const STATE_FILE_VERSION = 1;

/** How long a change waits for company before the file is rewritten (a refresh burst = one write). */
export const SAVE_DELAY_MS = 200;

const Sha256 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: "expected a base64url SHA-256 hash" });
const Scope = z.string().refine(isKnownScope, { message: "unknown scope" });
const Millis = z.number().finite().nonnegative();

const ClientId = z.string().min(1).max(200);

const GrantSchema = z.object({
  id: z.string().min(1).max(200),
  /** The integration the grant belongs to; absent in older files: the file's `client_id`. */
  client_id: ClientId.optional(),
  scopes: z.array(Scope),
  bases: z.union([z.literal("all"), z.array(z.string().min(1).max(200))]),
  access_tokens: z.array(z.object({ sha256: Sha256, scopes: z.array(Scope), expires_at: Millis })),
  refresh_tokens: z.array(z.object({ sha256: Sha256, expires_at: Millis, rotated: z.boolean() })),
});

export const StateFileSchema = z
  .object({
    version: z.literal(STATE_FILE_VERSION),
    /** When it was written (for people reading the file). */
    saved_at: z.string(),
    /** The first integration's client id (older files: the only integration's). */
    client_id: ClientId,
    clock_offset_ms: Millis,
    /** The registration's scopes at save time: a start with other `scopes` begins from those instead. */
    registered_scopes: z.array(Scope),
    enabled_scopes: z.array(Scope).min(1),
    grants: z.array(GrantSchema),
    /**
     * Every integration's client id with its registered and enabled scopes (the first one repeats
     * the fields above). Absent in files written before the emulator hosted several integrations.
     */
    integrations: z
      .array(
        z.object({
          client_id: ClientId,
          registered_scopes: z.array(Scope),
          enabled_scopes: z.array(Scope).min(1),
        }),
      )
      .min(1)
      .optional(),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const grant of file.grants) {
      for (const token of [...grant.access_tokens, ...grant.refresh_tokens]) {
        if (seen.has(token.sha256)) {
          ctx.addIssue({ code: "custom", message: "a token hash appears twice", path: ["grants"] });
          return;
        }
        seen.add(token.sha256);
      }
    }
  });

/** The file's content. */
export type StateFile = z.infer<typeof StateFileSchema>;

function damaged(path: string, problem: string, cause?: unknown): AirlockError {
  return new AirlockError("config_invalid", `The emulator state file ${path} ${problem}.`, {
    hint: `Delete ${path} to start fresh (the emulator then forgets every grant and token it issued, so connections must log in again), or pass another state file.`,
    cause,
  });
}

/**
 * Reads and validates a state file; `undefined` when it does not exist yet. Throws
 * AirlockError("config_invalid") naming the file and the fix when it is unreadable, damaged or of
 * another version.
 */
export function readStateFile(path: string): StateFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return undefined;
    throw damaged(path, `cannot be read (${code ?? "unknown error"})`, error);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw damaged(path, "is not valid JSON (damaged, perhaps by a crash or a hand edit)", error);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw damaged(path, "is not an emulator state file (expected a JSON object)");
  }
  const version = "version" in raw ? raw.version : undefined;
  if (version !== STATE_FILE_VERSION) {
    throw damaged(
      path,
      `was written by an incompatible version of the emulator (state file version ${JSON.stringify(version ?? null)}; this one reads version ${STATE_FILE_VERSION})`,
    );
  }
  const parsed = StateFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "file";
    throw damaged(path, `is damaged (${where}: ${issue?.message ?? "invalid"})`);
  }
  return parsed.data;
}

/**
 * Replaces `path` with `text` atomically: a 0600 temp file in the same folder (created 0700 if
 * missing), fsynced, then renamed over the old file, so a crash leaves the old or the new, never half.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // Keep the original error; the temp file may not even exist.
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Saves a snapshot to the state file after changes: `schedule()` is O(1) and synchronous (safe on the
 * token and API hot paths); the snapshot is taken and written later, once per burst, one write at a
 * time. `save()` writes now and reports failure; background failures become a process warning.
 */
export class StateFileWriter {
  readonly #path: string;
  readonly #snapshot: () => StateFile;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #dirty = false;
  #warned = false;

  constructor(path: string, snapshot: () => StateFile, delayMs: number = SAVE_DELAY_MS) {
    this.#path = path;
    this.#snapshot = snapshot;
    this.#delayMs = delayMs;
  }

  /** The file this writer keeps. */
  get path(): string {
    return this.#path;
  }

  /**
   * Notes a change; the file is rewritten within about `delayMs` (later if a write is in flight).
   */
  schedule(): void {
    this.#dirty = true;
    if (this.#timer === undefined && this.#writing === undefined) this.#arm();
  }

  /**
   * Waits for any write in flight, then writes the current state now. Rejects with
   * AirlockError("config_invalid") when the file cannot be written.
   */
  async save(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => undefined);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#write(true);
  }

  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write(false);
    }, this.#delayMs);
    // A pending save must not keep a finished process alive; close() saves explicitly.
    this.#timer.unref();
  }

  #write(report: boolean): Promise<void> {
    this.#dirty = false;
    const text = `${JSON.stringify(this.#snapshot())}\n`;
    const writing = writeFileAtomically(this.#path, text)
      .then(
        () => {
          this.#warned = false;
        },
        (error: unknown) => {
          // Retry with the next change; say so once, not per failed write.
          const failure = new AirlockError(
            "config_invalid",
            `Cannot write the emulator state file ${this.#path} (${errorCode(error) ?? String(error)}).`,
            {
              hint: "Make its folder writable, or pass another state file (or none, to keep state in memory only).",
              cause: error,
            },
          );
          if (report) throw failure;
          if (!this.#warned) {
            this.#warned = true;
            process.emitWarning(`${failure.message} ${failure.hint}`, {
              code: "AIRLOCK_EMULATOR_STATE_FILE",
            });
          }
        },
      )
      .finally(() => {
        this.#writing = undefined;
        if (this.#dirty && this.#timer === undefined) this.#arm();
      });
    this.#writing = writing;
    return writing;
  }
}

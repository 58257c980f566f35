/**
 * A cross-process lock file that does not trust clocks.
 *
 * proper-lockfile decides a lock is stale by comparing its mtime with Date.now(); a process whose
 * clock differs (faketime in tests, a skewed container) then breaks a live lock, and two
 * `airlock token` processes refresh the same token (measured: a +61m process took a lock held by a
 * real-time one). Here the lock file holds the owner's pid and host; it is stale only when that host
 * is this one and the pid is gone (`process.kill(pid, 0)` → ESRCH).
 *
 * The file appears atomically with its content (written to a temp file, then `link()`ed into place,
 * which fails with EEXIST if the lock exists), so a reader never sees an empty lock. Breaking a stale
 * lock happens under a short second lock (`<lock>.break`) and only after re-reading the same dead
 * owner, so two waiters can never both break it and delete a fresh lock by mistake.
 */
import { randomBytes } from "node:crypto";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AirlockError, errorCode } from "../shared/errors.js";

export interface FileLockOptions {
  /** Give up after this long (monotonic time). Default 60 s. */
  timeoutMs?: number;
  /** Aborts the wait (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once if the lock is busy, e.g. to tell the user what we are waiting for. */
  onWait?: () => void;
}

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

/**
 * Takes the lock at `path`, waiting while another live process holds it. Resolves to a release
 * function (idempotent; only removes the lock if it is still ours).
 */
export async function acquireFileLock(
  path: string,
  options: FileLockOptions = {},
): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const owner: LockOwner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString("hex") };
  let waited = false;
  let delay = 10;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(path, owner)) return releaser(path, owner);
    const holder = await readOwner(path);
    if (holder !== "missing" && isStale(holder)) {
      await breakStaleLock(path, holder);
      continue;
    }
    if (holder === "missing") continue; // released between our attempt and the read: try again now
    if (performance.now() - started > timeoutMs) {
      throw new AirlockError(
        "timeout",
        `Another airlock process (pid ${holder.pid}) has held ${path} for too long.`,
        {
          hint: `If no other airlock command is running, delete ${path} and try again.`,
        },
      );
    }
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    // Jittered, growing poll so 8 waiters do not march in step.
    try {
      await sleep(delay + Math.floor(Math.random() * delay), undefined, { signal: options.signal });
    } catch (error) {
      // timers/promises rejects with a generic AbortError; callers want the signal's reason.
      options.signal?.throwIfAborted();
      throw error;
    }
    delay = Math.min(delay * 2, 200);
  }
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = `${path}.${owner.pid}.${owner.nonce}.tmp`;
  await writeFile(tmp, JSON.stringify(owner), { mode: 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** The lock's owner; "missing" if there is no lock; a pid of 0 when the content is unreadable (treated as live). */
async function readOwner(path: string): Promise<LockOwner | "missing"> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "missing";
    throw error;
  }
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof value.pid === "number" && typeof value.host === "string" && typeof value.nonce === "string") {
      return { pid: value.pid, host: value.host, nonce: value.nonce };
    }
  } catch {
    // fall through
  }
  return { pid: 0, host: "", nonce: "" };
}

/** Stale only when we can prove the owner is dead: same host, pid gone. */
function isStale(owner: LockOwner): boolean {
  if (owner.pid <= 0 || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else: alive.
    return errorCode(error) === "ESRCH";
  }
}

async function breakStaleLock(path: string, stale: LockOwner): Promise<void> {
  const breaker: LockOwner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString("hex") };
  const breakPath = `${path}.break`;
  if (!(await tryCreate(breakPath, breaker))) {
    // Someone else is breaking it; a breaker that died mid-break is itself stale.
    const other = await readOwner(breakPath);
    if (other !== "missing" && isStale(other)) await unlink(breakPath).catch(() => {});
    await sleep(5);
    return;
  }
  try {
    const current = await readOwner(path);
    if (current !== "missing" && current.nonce === stale.nonce && current.pid === stale.pid) {
      await unlink(path).catch(() => {});
    }
  } finally {
    await unlink(breakPath).catch(() => {});
  }
}

function releaser(path: string, owner: LockOwner): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const current = await readOwner(path);
    if (current !== "missing" && current.nonce === owner.nonce) await unlink(path).catch(() => {});
  };
}

/**
 * A real small file system for store-failure tests: a tmpfs on a temp dir that a test can fill up
 * (ENOSPC for real) or remount read-only (EROFS for real; root ignores mode bits, a mount does not).
 * Mounting needs root (or CAP_SYS_ADMIN): `tmpfsMissing()` says why not, for a visible skip line.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  readonly dir: string;
  /** Writes a filler file until the kernel answers ENOSPC. */
  fill(): void;
  /** Deletes the filler file. */
  free(): void;
  /** `mount -o remount,ro`: every write on it now fails with EROFS. */
  remountReadOnly(): void;
  /** Unmounts and removes the mount point. */
  unmount(): void;
}

function run(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) return result.error.message;
  return result.status === 0 ? null : result.stderr.trim() || `exit ${result.status}`;
}

let missing: string | null | undefined;

/**
 * Why a tmpfs cannot be mounted here, or null when it can (probed once).
 *
 * @example
 * const why = tmpfsMissing();
 * if (why) console.warn(`[skip] read-only SQLite tests: ${why}`);
 */
export function tmpfsMissing(): string | null {
  if (missing !== undefined) return missing;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    missing = "needs root for mount (mount -t tmpfs)";
    return missing;
  }
  const dir = mkdtempSync(join(tmpdir(), "airlock-tmpfs-probe-"));
  const error = run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  if (error === null) run("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
  missing = error === null ? null : `needs root for mount (mount -t tmpfs failed: ${error})`;
  return missing;
}

/**
 * @example
 * const volume = mountTmpfs(4);
 * const path = join(volume.dir, "airlock.db");
 * volume.fill(); // SQLite now meets a full disk
 * volume.unmount();
 */
export function mountTmpfs(sizeMiB: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), "airlock-tmpfs-"));
  const error = run("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", dir]);
  if (error !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount -t tmpfs on ${dir} failed: ${error}`);
  }
  const filler = join(dir, "filler");
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, "a");
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x61);
          for (;;) {
            try {
              if (writeSync(fd, chunk) < size) break;
            } catch (caught) {
              if ((caught as NodeJS.ErrnoException).code === "ENOSPC") break;
              throw caught;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    remountReadOnly() {
      const failed = run("mount", ["-o", "remount,ro", dir]);
      if (failed !== null) throw new Error(`remount,ro ${dir} failed: ${failed}`);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      if (run("umount", [dir]) !== null) run("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

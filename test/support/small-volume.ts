/**
 * A small volume that a test can fill up or make read-only for real: a tmpfs of N MiB mounted on a
 * temp dir (or on a folder the test names). `fill()` writes a filler file until the kernel answers
 * ENOSPC, so every process writing there (a SQLite database, its WAL, a journal) meets a genuinely
 * full disk; `free()` deletes the filler. `remountReadOnly()` makes every write fail with EROFS
 * (root ignores mode bits, a read-only mount it does not).
 *
 * Needs `mount -t tmpfs` (root, or a container with CAP_SYS_ADMIN). When that is not permitted,
 * `smallVolumeMissing()` says so and the suite skips with that line.
 */
import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorCode } from "../../src/shared/errors.js";

/** Runs a mount command; null when it worked, else why not. */
function run(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) return result.error.message;
  return result.status === 0 ? null : result.stderr.trim() || `exit ${result.status}`;
}

function mount(sizeMiB: number, dir: string): string | null {
  return run("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0777`, "tmpfs", dir]);
}

function unmount(dir: string): void {
  if (run("umount", [dir]) !== null) run("umount", ["-l", dir]);
}

let probed: string | undefined | null = null;

/** Mounted by this process; unmounted when it exits, whatever happened to the test. */
const mounts = new Set<{ unmount(): void }>();
process.once("exit", () => {
  for (const volume of mounts) volume.unmount();
});

/**
 * Why a tmpfs cannot be mounted here (with the fix), or undefined when it can. Probes once by
 * mounting and unmounting a 1 MiB tmpfs.
 *
 * @example
 * const missing = smallVolumeMissing();
 * announceSkip("multiprocess", "full disk", missing);
 */
export function smallVolumeMissing(): string | undefined {
  if (probed !== null) return probed;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    probed = "mounting a tmpfs needs root (run the suite as root, e.g. in the CI container)";
    return probed;
  }
  const dir = mkdtempSync(join(tmpdir(), "airlock-probe-"));
  const error = mount(1, dir);
  if (error === null) unmount(dir);
  rmSync(dir, { recursive: true, force: true });
  probed =
    error === null
      ? undefined
      : `\`mount -t tmpfs\` is not permitted here (${error}); run as root with CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN)`;
  return probed;
}

export interface SmallVolume {
  /** The mount point. */
  readonly dir: string;
  /** Writes a filler file until ENOSPC; resolves to the bytes written. */
  fill(): number;
  /** Deletes the filler file. */
  free(): void;
  /** Free bytes as the kernel reports them. */
  available(): number;
  /** `mount -o remount,ro`: every write on it now fails with EROFS. */
  remountReadOnly(): void;
  /**
   * Unmounts (lazily if something still holds a file) and removes the mount point, unless it was
   * the caller's folder (`at`).
   */
  unmount(): void;
}

export interface SmallVolumeOptions {
  /** An existing folder to mount on (left in place after unmounting); a new temp dir by default. */
  at?: string;
}

/**
 * Mounts a tmpfs of `sizeMiB` on a new temp dir (or on `options.at`).
 *
 * @example
 * const volume = mountSmallVolume(16);
 * const databaseUrl = join(volume.dir, "airlock.db");
 * volume.fill(); // writes now fail with ENOSPC / SQLITE_FULL
 * volume.free();
 * volume.remountReadOnly(); // writes now fail with EROFS / SQLITE_READONLY
 * volume.unmount();
 */
export function mountSmallVolume(sizeMiB: number, options: SmallVolumeOptions = {}): SmallVolume {
  const dir = options.at ?? mkdtempSync(join(tmpdir(), "airlock-vol-"));
  const removeDir = () => {
    if (options.at === undefined) rmSync(dir, { recursive: true, force: true });
  };
  const error = mount(sizeMiB, dir);
  if (error !== null) {
    removeDir();
    throw new Error(`mount -t tmpfs on ${dir} failed: ${error}`);
  }
  const filler = join(dir, "filler");
  let isMounted = true;
  const volume: SmallVolume = {
    dir,
    fill() {
      const fd = openSync(filler, "a");
      let written = 0;
      try {
        // Big chunks first, then page-sized ones, then single bytes: nothing is left.
        for (const size of [1 << 20, 64 << 10, 4 << 10, 1]) {
          const chunk = Buffer.alloc(size, 0x61);
          for (;;) {
            try {
              const n = writeSync(fd, chunk);
              written += n;
              if (n < size) break;
            } catch (caught) {
              if (errorCode(caught) === "ENOSPC") break;
              throw caught;
            }
          }
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    available() {
      const stats = statfsSync(dir);
      return stats.bavail * stats.bsize;
    },
    remountReadOnly() {
      const failed = run("mount", ["-o", "remount,ro", dir]);
      if (failed !== null) throw new Error(`mount -o remount,ro ${dir} failed: ${failed}`);
    },
    unmount() {
      if (!isMounted) return;
      isMounted = false;
      mounts.delete(volume);
      unmount(dir);
      removeDir();
    },
  };
  mounts.add(volume);
  return volume;
}

/**
 * A small volume that a test can fill up for real: a tmpfs of N MiB mounted on a temp dir. `fill()`
 * writes a filler file until the kernel answers ENOSPC, so every process writing there (a SQLite
 * database, its WAL, a journal) meets a genuinely full disk; `free()` deletes the filler.
 *
 * Needs `mount -t tmpfs` (root, or a container with CAP_SYS_ADMIN). When that is not permitted,
 * `smallVolumeMissing()` says so and the suite skips with that line.
 */
import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function mount(sizeMiB: number, dir: string): { ok: true } | { ok: false; error: string } {
  const result = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0777`, "tmpfs", dir], {
    encoding: "utf8",
  });
  if (result.error) return { ok: false, error: result.error.message };
  if (result.status !== 0) return { ok: false, error: result.stderr.trim() || `exit ${result.status}` };
  return { ok: true };
}

function unmount(dir: string): void {
  if (spawnSync("umount", [dir]).status !== 0) spawnSync("umount", ["-l", dir]);
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
 * if (missing) process.stderr.write(`[multiprocess] SKIPPED full disk: ${missing}\n`);
 */
export function smallVolumeMissing(): string | undefined {
  if (probed !== null) return probed;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    probed = "mounting a tmpfs needs root (run the suite as root, e.g. in the CI container)";
    return probed;
  }
  const dir = mkdtempSync(join(tmpdir(), "airlock-probe-"));
  const mounted = mount(1, dir);
  if (mounted.ok) unmount(dir);
  rmSync(dir, { recursive: true, force: true });
  probed = mounted.ok
    ? undefined
    : `\`mount -t tmpfs\` is not permitted here (${mounted.error}); run as root with CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN)`;
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
  /** Unmounts (lazily if something still holds a file) and removes the mount point. */
  unmount(): void;
}

/**
 * Mounts a tmpfs of `sizeMiB` on a new temp dir.
 *
 * @example
 * const volume = mountSmallVolume(16);
 * const databaseUrl = join(volume.dir, "airlock.db");
 * volume.fill(); // writes now fail with ENOSPC / SQLITE_FULL
 * volume.free();
 * volume.unmount();
 */
export function mountSmallVolume(sizeMiB: number): SmallVolume {
  const dir = mkdtempSync(join(tmpdir(), "airlock-vol-"));
  const mounted = mount(sizeMiB, dir);
  if (!mounted.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount -t tmpfs on ${dir} failed: ${mounted.error}`);
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
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
              throw error;
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
    unmount() {
      if (!isMounted) return;
      isMounted = false;
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  mounts.add(volume);
  return volume;
}

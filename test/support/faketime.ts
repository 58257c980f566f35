/**
 * Moving another OS process's clock with libfaketime, preloaded into node itself.
 *
 * Not through the `faketime` wrapper: the wrapper keeps semaphores in /dev/shm named after its pid,
 * a SIGKILLed wrapper leaves them behind, and a later wrapper that gets the same pid then fails with
 * `sem_open: File exists`. Preloading also keeps signals and exit codes node's own.
 */
import { existsSync } from "node:fs";

const LIBS = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/faketime/libfaketimeMT.so.1",
  "/usr/local/lib/faketime/libfaketimeMT.so.1",
];

/** The thread-safe libfaketime (node is multi-threaded); throws with the install command if absent. */
export function libfaketime(): string {
  const lib = LIBS.find((path) => existsSync(path));
  if (!lib) throw new Error("libfaketime is not installed: apt-get install faketime");
  return lib;
}

/**
 * Environment for a child process whose wall clock runs `offset` ahead ("+61m", "+40s", "+2d");
 * monotonic time stays real so timers behave.
 *
 * @example
 * spawn(process.execPath, [script], { env: { ...process.env, ...faketimeEnv("+61m") } });
 */
export function faketimeEnv(offset: string): Record<string, string> {
  return { LD_PRELOAD: libfaketime(), FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

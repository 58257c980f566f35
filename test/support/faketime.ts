/**
 * Other OS processes' clocks, two ways.
 *
 * - {@link shiftedClockArgs}: a node process whose JavaScript clock (`Date`, `Date.now()`) runs a fixed
 *   offset ahead or behind, through a `--import` preload. Needs no system tool; enough for code that
 *   must not trust `Date.now()` (the CLI's lock file).
 * - {@link libfaketime}: libfaketime preloaded into node itself (LD_PRELOAD), for processes whose
 *   clock must move while they run (the multi-process suites, through a timestamp file). Not
 *   through the `faketime` wrapper: the wrapper keeps semaphores in /dev/shm named after its pid, a
 *   SIGKILLed wrapper leaves them behind, and a later wrapper that gets the same pid then fails with
 *   `sem_open: File exists`. Preloading also keeps signals and exit codes node's own.
 *
 * A CLI process whose clock only has to be "later" needs neither: age its stored credentials instead
 * (test/support/cli.ts `ageCredentials`) and move the emulator's clock.
 */
import { existsSync } from "node:fs";
import { announceSkip } from "./skip.js";

const LIBS = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/faketime/libfaketimeMT.so.1",
  "/usr/local/lib/faketime/libfaketimeMT.so.1",
];

const INSTALL = "apt-get install faketime";

/**
 * Why libfaketime cannot be used here (with the install command), or undefined when it can.
 *
 * @example
 * const noFaketime = libfaketimeMissing();
 * announceSkip("faketime", "clock jumps", noFaketime);
 * describe.skipIf(noFaketime !== undefined)("clock jumps", () => { … });
 */
export function libfaketimeMissing(): string | undefined {
  if (LIBS.some((path) => existsSync(path))) return undefined;
  return `libfaketime (libfaketimeMT.so.1) is not installed: ${INSTALL}`;
}

/**
 * Prints the one visible line for a suite skipped because libfaketime is absent (call at module
 * level next to `describe.skipIf(libfaketimeMissing() !== undefined)`).
 *
 * @example
 * announceFaketimeSkip("refresh storm");
 */
export function announceFaketimeSkip(suite: string): void {
  announceSkip("faketime", suite, libfaketimeMissing());
}

/** The thread-safe libfaketime (node is multi-threaded); throws with the install command if absent. */
export function libfaketime(): string {
  const lib = LIBS.find((path) => existsSync(path));
  if (!lib) throw new Error(libfaketimeMissing());
  return lib;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "+61m", "-2h", "+40s", "+59d" → milliseconds. */
function offsetMs(offset: string): number {
  const match = /^([+-])(\d+)([smhd])$/.exec(offset);
  if (!match) throw new Error(`not a clock offset like "+61m" or "-2h": ${offset}`);
  return (match[1] === "-" ? -1 : 1) * Number(match[2]) * UNIT_MS[match[3]!]!;
}

/**
 * A module that replaces `Date` before any other module loads: `Date.now()` and `new Date()` (and
 * `Date()`) are shifted by `shiftMs`; dates built from a value, `Date.parse` and `Date.UTC` are
 * untouched. Monotonic time (`performance.now()`, timers) stays real.
 */
function shiftDateModule(shiftMs: number): string {
  return `
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
const shifted = () => realNow() + ${shiftMs};
function ShiftedDate(...args) {
  if (!new.target) return new RealDate(shifted()).toString();
  return args.length > 0 ? new RealDate(...args) : new RealDate(shifted());
}
Object.setPrototypeOf(ShiftedDate, RealDate);
ShiftedDate.prototype = RealDate.prototype;
ShiftedDate.now = shifted;
globalThis.Date = ShiftedDate;
`;
}

/**
 * Node options (put them before the script) for a child process whose JavaScript wall clock runs
 * `offset` ("+61m", "-2h") away from this one's for its whole life: no system tool needed. Only
 * JavaScript time is shifted; file mtimes from the kernel stay real, which is exactly what trips
 * code that compares an mtime with `Date.now()` (proper-lockfile's staleness check).
 *
 * @example
 * spawn(process.execPath, [...shiftedClockArgs("-2h"), script]);
 */
export function shiftedClockArgs(offset: string): string[] {
  return ["--import", `data:text/javascript,${encodeURIComponent(shiftDateModule(offsetMs(offset)))}`];
}
